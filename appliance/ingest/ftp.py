"""Frames from the camera over FTP: a pyftpdlib server whose accounts live in the store.

Each account (one per camera or second shooter) logs in with its password, stored hashed, and is
confined to its own inbox folder: pyftpdlib resolves every path it is given (``..``, absolute
paths and symlinks included) and refuses one outside the account's home. An account may change
folder, list, make folders and store files; it can neither read nor delete nor rename anything.

A file is taken out of the inbox the moment its upload completes (a rename into a folder of its
own in ``received/<user>/``, so a camera re-sending the same name never overwrites a frame still
waiting) and imported by one worker thread through the same verified import as a card: dedupe by
sha256 (a re-sent identical frame is a duplicate; a different one under the same name is a new
photo), RAW archived, thumbnails. The received copy is removed only once its photo is safely in
the buffer; a file the import skips or fails stays there, never lost. An interrupted upload is
removed and counted per account (an ``ABOR``, a stalled data connection, or a JPEG cut short
without its end-of-image marker); it never becomes a photo.

Who may log in is :mod:`.ftp_auth`; FTPS, the plain-FTP networks and the disk reserve are the
handler's (:mod:`.ftp_handler`, :mod:`.ftp_tls`). The store shows each camera's connection, frames
received and last frame time to the admin.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from pyftpdlib.servers import FTPServer

from ..config import Config, plain_networks
from ..fsutil import fsync_dir
from ..store import Store
from .ftp_auth import StoreAuthorizer
from .ftp_handler import handler_class
from .ftp_tls import ensure_certificate, tls_folder
from .import_types import ImportReport
from .received import Received, ReceivedImporter
from .scan import JPEG_SUFFIXES
from .verified_copy import Hashes

log = logging.getLogger(__name__)


def ends_like_a_jpeg(path: Path, tail: int = 4096) -> bool:
    """Does the file end with a JPEG end-of-image marker (padding after it allowed)?"""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - tail))
            end = handle.read().rstrip(b"\x00\xff")  # padding some cameras write after it
    except OSError:
        return False
    return end.endswith(b"\xff\xd9")


class FtpIngest:
    """The FTP server and the thread that imports what it receives."""

    def __init__(self, config: Config, host: str = "127.0.0.1", port: int = 2121,
                 passive_ports: range | None = None) -> None:
        self.config = config
        root = config.folder("state") / "ftp"
        self.inboxes, self.received = root / "inbox", root / "received"
        self.tls_folder = tls_folder(config)
        self.imports = ReceivedImporter(config, self._imported, name="ftp-import")
        self.authorizer = StoreAuthorizer(self.inboxes, config.ftp.max_login_failures)
        self.sessions: Counter[str] = Counter()  # open connections per account
        self.hashes: dict[str, Hashes] = {}  # of each upload, hashed as it arrived (by its path)
        self.inboxes.mkdir(parents=True, exist_ok=True)
        tls_files = ensure_certificate(self.tls_folder) if config.ftp.tls else None
        handler = handler_class(self, plain_networks(config), config.ftp.reserve_mb, tls_files)
        if passive_ports is not None:
            handler.passive_ports = passive_ports
        self.server = FTPServer((host, port), handler)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.socket.getsockname()[:2]
        return host, port

    # the server's thread ---------------------------------------------------------------------
    def owner(self, path: Path) -> str:
        """The account whose inbox ``path`` is in (every upload lands in its account's inbox)."""
        return path.resolve().relative_to(self.inboxes.resolve()).parts[0]

    def file_received(self, user: str, path: Path) -> None:
        """Move a complete upload out of the inbox (same filesystem: a rename) and queue it.

        FTP has no length: a data connection that drops reads like the end of the file. A JPEG
        that does not end with its end-of-image marker was cut off, and is discarded as such."""
        hashes = self.hashes.pop(str(path), None)
        if path.suffix.lower() in JPEG_SUFFIXES and not ends_like_a_jpeg(path):
            return self.upload_interrupted(user, path)
        (self.received / user).mkdir(parents=True, exist_ok=True)
        # a folder of its own, never one a kept file from an earlier run is in
        dest = Path(tempfile.mkdtemp(prefix="", dir=self.received / user)) / path.name
        os.replace(path, dest)
        fsync_dir(dest.parent)  # the frame's name too is on the disk (its bytes were at 226)
        fsync_dir(dest.parent.parent)
        self.imports.put(Received(dest, f"ftp {user}", user, hashes))

    def sweep_inboxes(self) -> None:
        """Handle what an earlier run left (nothing is being uploaded yet). In ``received/``:
        frames whose upload had ended but whose import had not (a crash or a kill), queued again.
        In the inboxes: a connection dropped before the server read a byte leaves a file with no
        callback, and a crash can come between an upload's end and its move; whole ones are
        imported, cut ones discarded, as if their uploads had just ended."""
        for path in sorted(p for p in self.received.glob("*/*/*") if p.is_file()):
            user = path.parent.parent.name
            self.imports.put(Received(path, f"ftp {user}", user))
        if not self.inboxes.is_dir():
            return
        for path in sorted(p for p in self.inboxes.rglob("*") if p.is_file()):
            try:
                self.file_received(self.owner(path), path)
            except (OSError, ValueError, IndexError):  # not an account's inbox file: leave it
                log.warning("left %s in the FTP inboxes", path)

    def password_hash(self, user: str) -> str:
        """The account's password hash now ("" when it is gone)."""
        assert self.authorizer.store is not None
        account = self.authorizer.store.ftp_account(user)
        return str(account["password_hash"]) if account else ""

    def camera_connected(self, user: str, address: str) -> None:
        self.sessions[user] += 1
        assert self.authorizer.store is not None
        self.authorizer.store.ftp_session(user, address)

    def camera_left(self, user: str) -> None:
        self.sessions[user] -= 1
        if self.sessions[user] <= 0:
            del self.sessions[user]
            assert self.authorizer.store is not None
            self.authorizer.store.ftp_session(user, None)

    def upload_interrupted(self, user: str, path: Path) -> None:
        self.hashes.pop(str(path), None)
        path.unlink(missing_ok=True)
        assert self.authorizer.store is not None
        self.authorizer.store.count_ftp_partial(user)
        log.info("partial upload of %s from %s discarded", path.name, user)

    # the import thread -----------------------------------------------------------------------
    @staticmethod
    def _imported(store: Store, item: Received, report: ImportReport | None, safe: bool) -> None:
        if safe:
            store.count_ftp_frame(item.tag)

    # running ---------------------------------------------------------------------------------
    def serve(self, running: Callable[[], bool], tick: Callable[[], None] = lambda: None,
              poll_s: float = 0.2) -> None:
        """Accept frames while ``running()`` (calling ``tick`` each turn), then finish the
        imports already queued."""
        self.authorizer.store = Store(self.config.db_path)  # SQLite: this thread's connection
        self.authorizer.store.end_ftp_sessions()  # what a crashed run left "connected"
        self.imports.start()
        try:
            self.sweep_inboxes()
            while running():  # (serve_forever would log "starting" on every turn)
                self.server.ioloop.loop(poll_s, blocking=False)
                tick()
        finally:
            self.server.close_all()
            self.authorizer.store.end_ftp_sessions()
            self.imports.finish()
            self.authorizer.store.close()
