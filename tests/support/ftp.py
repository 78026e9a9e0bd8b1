"""An FTP ingest served on 127.0.0.1 in a thread, and the ftplib client a camera stands in for."""

from __future__ import annotations

import contextlib
import ftplib
import ssl
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from appliance.config import Config
from appliance.ingest.ftp import FtpIngest
from appliance.store import Store

USER, PASSWORD = "camera-a", "shutter 1/250"


@contextlib.contextmanager
def serving(config: Config, **ftp: Any) -> Iterator[FtpIngest]:
    """An :class:`FtpIngest` on a free port of 127.0.0.1 (``ftp`` overrides [ftp] keys)."""
    if ftp:
        config = replace(config, ftp=replace(config.ftp, **ftp))
    ingest = FtpIngest(config, port=0)
    stop = threading.Event()
    thread = threading.Thread(target=ingest.serve, args=(lambda: not stop.is_set(),), daemon=True)
    thread.start()
    try:
        yield ingest
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def connect(ingest: FtpIngest, user: str = USER, password: str = PASSWORD) -> ftplib.FTP:
    """A plain FTP session logged in as ``user``."""
    host, port = ingest.address
    ftp = ftplib.FTP()
    ftp.connect(host, port, timeout=10)
    ftp.login(user, password)
    return ftp


def connect_tls(ingest: FtpIngest, user: str = USER, password: str = PASSWORD,
                protect_data: bool = True) -> ftplib.FTP_TLS:
    """An FTPS session (explicit TLS) that trusts exactly the appliance's certificate."""
    context = ssl.create_default_context(cafile=str(ingest.tls_folder / "cert.pem"))
    context.check_hostname = False  # the certificate names the Pi, not 127.0.0.1
    host, port = ingest.address
    ftp = ftplib.FTP_TLS(context=context)
    ftp.connect(host, port, timeout=10)
    ftp.login(user, password)
    if protect_data:
        ftp.prot_p()
    return ftp


def photos(store: Store) -> list[dict]:
    return store.rows("SELECT original_name, sha256 FROM photos ORDER BY id")


def account(store: Store, user: str = USER) -> dict:
    row = store.ftp_account(user)
    assert row is not None
    return row
