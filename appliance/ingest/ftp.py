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

Not yet here (issue "Camera to gallery while shooting"): FTPS, the systemd unit, accounts in the
admin, login rate limits and the disk reserve.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer
from werkzeug.security import check_password_hash

from ..config import Config
from ..store import Store
from .importer import Importer
from .scan import JPEG_SUFFIXES

log = logging.getLogger(__name__)

PERMS = "elmw"  # change folder, list, make folders, store: nothing read, deleted or renamed
USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")


def ends_like_a_jpeg(path: Path, tail: int = 4096) -> bool:
    """Does the file end with a JPEG end-of-image marker (padding after it allowed)?"""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - tail))
            end = handle.read().rstrip(b"\x00\xff")  # padding some cameras write after it
    except OSError:
        return False
    return end.endswith(b"\xff\xd9")


def valid_user(user: str) -> bool:
    """An account name that is also a safe folder name."""
    return USER_NAME.fullmatch(user) is not None


class StoreAuthorizer(DummyAuthorizer):
    """Accounts from the store, each confined to ``inboxes/<user>``."""

    def __init__(self, inboxes: Path) -> None:
        super().__init__()
        self.inboxes = inboxes
        self.store: Store | None = None  # opened in the server's thread (see FtpIngest.serve)

    def _account(self, user: str) -> dict[str, Any] | None:
        assert self.store is not None
        return self.store.ftp_account(user) if valid_user(user) else None

    def validate_authentication(self, username: str, password: str, handler: Any) -> None:
        account = self._account(username)
        if account is None or not check_password_hash(account["password_hash"], password):
            raise AuthenticationFailed("Authentication failed.")

    def has_user(self, username: str) -> bool:
        return self._account(username) is not None

    def get_home_dir(self, username: str) -> str:
        home = self.inboxes / username
        home.mkdir(parents=True, exist_ok=True)
        return str(home)

    def get_perms(self, username: str) -> str:
        return PERMS

    def has_perm(self, username: str, perm: str, path: str | None = None) -> bool:
        if perm not in PERMS:
            return False
        if path is None:
            return True
        home = os.path.realpath(self.inboxes / username)  # (no mkdir: runs for every command)
        return os.path.commonpath([home, os.path.realpath(path)]) == home

    def get_msg_login(self, username: str) -> str:
        return "Welcome: frames are imported as soon as each upload completes."

    def get_msg_quit(self, username: str) -> str:
        return "Goodbye."


class FtpIngest:
    """The FTP server and the thread that imports what it receives."""

    def __init__(self, config: Config, host: str = "127.0.0.1", port: int = 2121,
                 passive_ports: range | None = None) -> None:
        self.config = config
        root = config.folder("state") / "ftp"
        self.inboxes, self.received = root / "inbox", root / "received"
        self.queue: queue.SimpleQueue[tuple[str, Path] | None] = queue.SimpleQueue()
        self.authorizer = StoreAuthorizer(self.inboxes)
        ingest = self

        class Handler(FTPHandler):
            authorizer = self.authorizer
            banner = "Event photo appliance: FTP frames to the gallery"

            # The account is read from where the file is, not from the session: a connection
            # that drops mid-upload is logged out before its data channel closes.
            def on_file_received(self, file: str) -> None:
                ingest.file_received(ingest.owner(Path(file)), Path(file))

            def on_incomplete_file_received(self, file: str) -> None:
                ingest.upload_interrupted(ingest.owner(Path(file)), Path(file))

        if passive_ports is not None:
            Handler.passive_ports = passive_ports
        self.server = FTPServer((host, port), Handler)
        self.importer = threading.Thread(target=self._import_loop, name="ftp-import", daemon=True)

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
        if path.suffix.lower() in JPEG_SUFFIXES and not ends_like_a_jpeg(path):
            return self.upload_interrupted(user, path)
        (self.received / user).mkdir(parents=True, exist_ok=True)
        # a folder of its own, never one a kept file from an earlier run is in
        dest = Path(tempfile.mkdtemp(prefix="", dir=self.received / user)) / path.name
        os.replace(path, dest)
        self.queue.put((user, dest))

    def sweep_inboxes(self) -> None:
        """Handle what an earlier run left in the inboxes (nothing is being uploaded yet): a
        connection dropped before the server read a byte leaves a file with no callback, and a
        crash can come between an upload's end and its move. Whole ones are imported, cut ones
        discarded, as if their uploads had just ended."""
        if not self.inboxes.is_dir():
            return
        for path in sorted(p for p in self.inboxes.rglob("*") if p.is_file()):
            try:
                self.file_received(self.owner(path), path)
            except (OSError, ValueError, IndexError):  # not an account's inbox file: leave it
                log.warning("left %s in the FTP inboxes", path)

    def upload_interrupted(self, user: str, path: Path) -> None:
        path.unlink(missing_ok=True)
        assert self.authorizer.store is not None
        self.authorizer.store.count_ftp_partial(user)
        log.info("partial upload of %s from %s discarded", path.name, user)

    # the import thread -----------------------------------------------------------------------
    def _import_loop(self) -> None:
        store = Store(self.config.db_path)
        try:
            importer = Importer(self.config, store)
            while (item := self.queue.get()) is not None:
                self._import_one(importer, store, *item)
        finally:
            store.close()

    def _import_one(self, importer: Importer, store: Store, user: str, path: Path) -> None:
        label = str(path)
        try:
            report = importer.import_paths([(path, None)], source=f"ftp {user}")
        except Exception:  # reported, and the file stays in received/
            log.exception("import of %s from %s failed", path.name, user)
            return
        safe = label in report.imported or label in report.duplicates or label in report.raw_archived
        if safe:  # the buffer holds it: the received copy can go
            shutil.rmtree(path.parent, ignore_errors=True)
            store.count_ftp_frame(user)
        else:
            log.warning("%s from %s was not imported (%s); kept in %s", path.name, user,
                        report.summary(), path.parent)

    # running ---------------------------------------------------------------------------------
    def serve(self, running: Callable[[], bool], tick: Callable[[], None] = lambda: None,
              poll_s: float = 0.2) -> None:
        """Accept frames while ``running()`` (calling ``tick`` each turn), then finish the
        imports already queued."""
        self.authorizer.store = Store(self.config.db_path)  # SQLite: this thread's connection
        self.importer.start()
        try:
            self.sweep_inboxes()
            while running():  # (serve_forever would log "starting" on every turn)
                self.server.ioloop.loop(poll_s, blocking=False)
                tick()
        finally:
            self.server.close_all()
            self.queue.put(None)
            self.importer.join()
            self.authorizer.store.close()
