"""The FTP service: frames from cameras over FTP (:mod:`.ftp`), under the service life cycle."""

from __future__ import annotations

from ..config import Config, passive_ports
from ..lifecycle import Lifecycle
from ..store import Store
from .ftp import FtpIngest


def run(config: Config, store: Store, service: Lifecycle) -> None:
    """Serve FTP until the service is told to stop (READY names the address and the accounts)."""
    host, _, port = config.ftp.bind.rpartition(":")
    ingest = FtpIngest(config, host or "0.0.0.0", int(port), passive_ports(config))
    accounts = store.ftp_accounts()
    service.ready(f"FTP on {config.ftp.bind}, {len(accounts)} account(s)", store)
    ingest.serve(service.running, service.alive)
