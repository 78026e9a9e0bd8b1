"""The FTP command handler: pyftpdlib's, with the appliance's rules for a camera's session.

- FTPS (explicit TLS, ``AUTH TLS``) is offered with the appliance's self-signed certificate
  (:mod:`.ftp_tls`); plain FTP may log in only from ``ftp.plain_networks`` (the Pi's own Wi-Fi),
  from anywhere else the login and the data channel must be encrypted.
- An upload is refused with ``452`` while the disk has less than ``ftp.reserve_mb`` free, so a
  camera never fills the buffer's disk (it keeps the frame and retries later).
- A complete upload, an interrupted one and a camera's connection are handed to the ingest.
"""

from __future__ import annotations

import ipaddress
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyftpdlib.filesystems import AbstractedFS
from pyftpdlib.handlers import FTPHandler

from .verified_copy import HashingWriter

if TYPE_CHECKING:
    from .ftp import FtpIngest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOGIN_COMMANDS = ("USER", "PASS")
# a frame is read in 1 MB pieces, not pyftpdlib's 64 KB: each piece is also hashed (SHA-256 and
# BLAKE3) as it is written, and fewer, larger pieces keep a 24 MP frame's upload near the
# network's speed
RECEIVE_CHUNK = 1 << 20
DATA_COMMANDS = ("PASV", "EPSV", "PORT", "EPRT")


def plain_allowed(address: str, networks: Sequence[Network]) -> bool:
    """May a client at ``address`` use FTP without TLS?"""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def free_mb(folders: Sequence[Path]) -> float:
    """The least free space, in MB, on the disks holding ``folders``."""
    return min(shutil.disk_usage(folder).free for folder in folders) / 1e6


class HashingFS(AbstractedFS):
    """Files stored whole (STOR, not a resumed or appended one) hash what they receive, into their
    handler's ``received_hashes``."""

    def open(self, filename: str, mode: str) -> Any:
        handle = super().open(filename, mode)
        if mode != "wb":
            return handle
        return HashingWriter(handle, self.cmd_channel.received_hashes)  # type: ignore[attr-defined]


def _base_handler(tls: bool) -> type[FTPHandler]:
    if not tls:
        return FTPHandler
    from pyftpdlib.handlers import TLS_FTPHandler  # needs pyOpenSSL

    return TLS_FTPHandler  # type: ignore[no-any-return]


def handler_class(ingest: FtpIngest, networks: Sequence[Network], reserve_mb: float,
                  tls_files: tuple[Path, Path] | None) -> type[FTPHandler]:
    """A handler class bound to ``ingest`` (pyftpdlib configures handlers by class attributes)."""
    base = _base_handler(tls_files is not None)
    watched = (ingest.inboxes, ingest.config.folder("buffer"))

    class DataChannel(base.dtp_handler):  # type: ignore[misc, name-defined]
        ac_in_buffer_size = RECEIVE_CHUNK

    class Handler(base):  # type: ignore[misc, valid-type]
        authorizer = ingest.authorizer
        abstracted_fs = HashingFS
        dtp_handler = DataChannel
        received_hashes = ingest.hashes
        banner = "Event photo appliance: FTP frames to the gallery"
        if tls_files is not None:
            certfile, keyfile = (str(path) for path in tls_files)
        _camera: str = ""
        _hash: str = ""  # the account's password hash when this session logged in

        def _encrypted(self, what: str) -> bool:
            return bool(getattr(self, what, False))

        def process_command(self, cmd: str, *args: Any, **kwargs: Any) -> None:
            if not plain_allowed(self.remote_ip, networks):
                if cmd in LOGIN_COMMANDS and not self._encrypted("_ssl_established"):
                    self.respond("530 FTPS is required from this network: connect with explicit TLS.")
                    return
                if cmd in DATA_COMMANDS and not self._encrypted("_prot"):
                    self.respond("550 FTPS is required from this network: encrypt data (PROT P).")
                    return
            super().process_command(cmd, *args, **kwargs)

        def ftp_STOR(self, file: str, mode: str = "w") -> Any:
            if not self._still_allowed():
                self.respond("530 This account was removed or its password changed: log in again.")
                self.close_when_done()
                return None
            free = free_mb(watched)
            if free < reserve_mb:
                self.respond(f"452 The appliance's disk is nearly full ({free:.0f} MB free, "
                             f"{reserve_mb:.0f} MB kept in reserve): frame not accepted.")
                return None
            return super().ftp_STOR(file, mode)

        # The account is read from where the file is, not from the session: a connection
        # that drops mid-upload is logged out before its data channel closes.
        def on_file_received(self, file: str) -> None:
            ingest.file_received(ingest.owner(Path(file)), Path(file))

        def on_incomplete_file_received(self, file: str) -> None:
            ingest.upload_interrupted(ingest.owner(Path(file)), Path(file))

        def _still_allowed(self) -> bool:
            """Is the account this session logged in with still there, with the same password?
            (A camera keeps its connection for hours: removing it in the admin must stop it.)"""
            return bool(self._hash) and ingest.password_hash(self.username) == self._hash

        def on_login(self, username: str) -> None:
            self._hash, self._camera = ingest.password_hash(username), username
            ingest.camera_connected(username, self.remote_ip)

        def on_logout(self, username: str) -> None:  # QUIT, or USER again
            self._left()

        def on_disconnect(self) -> None:  # the connection closed, cleanly or not
            self._left()

        def _left(self) -> None:
            if self._camera:
                ingest.camera_left(self._camera)
                self._camera = ""

    return Handler
