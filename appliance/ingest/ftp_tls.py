"""The FTPS certificate: self-signed, made on the appliance the first time the FTP service starts.

A camera shows the certificate's SHA-256 fingerprint when it first connects (Canon, Nikon and Sony
ask to trust it); the admin shows the same fingerprint so the photographer can compare them. The
key never leaves ``state/ftp/tls/`` (0600, the service user's).
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ..config import Config
from ..fsutil import atomic_file

VALID_DAYS = 3650  # a camera has no way to renew it: ten years


def tls_folder(config: Config) -> Path:
    """Where the FTP service keeps its certificate and key."""
    return config.folder("state") / "ftp" / "tls"


def certificate_paths(folder: Path) -> tuple[Path, Path]:
    return folder / "cert.pem", folder / "key.pem"


def ensure_certificate(folder: Path, hostname: str | None = None) -> tuple[Path, Path]:
    """The certificate and key in ``folder``, made (once) when either is missing."""
    cert_path, key_path = certificate_paths(folder)
    if cert_path.is_file() and key_path.is_file():
        return cert_path, key_path
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    host = hostname or socket.gethostname()
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Event photo appliance")])
    names: list[x509.GeneralName] = [x509.DNSName(host), x509.DNSName(f"{host}.local"),
                                     x509.IPAddress(ipaddress.ip_address("10.42.0.1"))]
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    with atomic_file(key_path, mode=0o600) as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    with atomic_file(cert_path, mode=0o644) as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def fingerprint(cert_path: Path) -> str:
    """SHA-256 fingerprint as cameras show it (AA:BB:...), or "" without a certificate."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        return ""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()
