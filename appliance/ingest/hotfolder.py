"""The hot folder: cameras and tethering software drop files over FTP/SMB into a folder.

A file is imported (through :meth:`Importer.import_paths`, like a card) only once it has stopped
changing, so a file still being written is never imported half-written.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..config import Config
from ..store import Store
from .import_types import ImportReport
from .importer import Importer
from .scan import walk

log = logging.getLogger(__name__)


class FolderWatcher:
    """The hot folder: imports files once their size and mtime have been stable for a while.

    Tethering software and FTP/SMB servers write files in place; a file is taken only when two
    scans at least ``settle_seconds`` apart saw the same size and mtime and that mtime is older
    than ``settle_seconds``.
    """

    def __init__(self, importer: Importer, folder: Path, settle_seconds: float = 2.0) -> None:
        self.importer = importer
        self.folder = folder
        self.settle = settle_seconds
        self.seen: dict[Path, tuple[int, int, float]] = {}
        self.done: dict[Path, tuple[int, int]] = {}

    def scan(self, now: float | None = None) -> ImportReport | None:
        """One pass: import the files that have settled; None when there was nothing to do."""
        if not self.folder.is_dir():
            return None
        now = time.time() if now is None else now
        stable: list[tuple[Path, str | None]] = []
        current: dict[Path, tuple[int, int, float]] = {}
        for path, reason in walk(self.folder):
            if reason is not None:
                continue
            try:
                st = path.stat()
            except OSError:
                continue
            sig = (st.st_size, st.st_mtime_ns)
            if self.done.get(path) == sig:
                continue
            first_seen = self.seen.get(path)
            since = first_seen[2] if first_seen and first_seen[:2] == sig else now
            current[path] = (*sig, since)
            settled = now - since >= self.settle and now - st.st_mtime_ns / 1e9 >= self.settle
            if settled and st.st_size > 0:
                stable.append((path, None))
        self.seen = current
        if not stable:
            return None
        report = self.importer.import_paths(stable, source=f"hot folder {self.folder}")
        for path, _ in stable:
            if str(path) not in report.errors:
                self.done[path] = current[path][:2]
                self.seen.pop(path, None)
        return report


def run_hot_folder(config: Config, folder: Path, stop: threading.Event,
                   on_report: Callable[[ImportReport], None] | None = None) -> None:
    """The hot-folder loop, for a thread of its own (its store connection is made here)."""
    store = Store(config.db_path)
    try:
        watcher = FolderWatcher(Importer(config, store), folder, config.importer.settle_seconds)
        while not stop.is_set():
            try:
                report = watcher.scan()
            except Exception:  # keep watching; the next scan retries
                log.exception("hot folder scan of %s failed", folder)
                report = None
            if report is not None and on_report is not None:
                on_report(report)
            stop.wait(config.importer.poll_seconds)
    finally:
        store.close()


def chosen_folder(config: Config, store: Store) -> Path | None:
    """The hot folder: the one picked in the admin (setting ``folders``), else ``importer.watch``."""
    chosen = (store.get_setting("folders") or {}).get("watch")
    return Path(chosen) if chosen else config.importer.watch


class HotFolder:
    """The hot-folder thread; :meth:`follow` moves it to another folder without a restart."""

    def __init__(self, config: Config, on_report: Callable[[ImportReport], None] | None = None) -> None:
        self.config = config
        self.on_report = on_report
        self.folder: Path | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def follow(self, folder: Path | None) -> None:
        """Watch ``folder`` (None: none) from now on."""
        if folder == self.folder:
            return
        self.stop()
        self.folder = folder
        if folder is not None:
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=run_hot_folder, args=(self.config, folder, self._stop, self.on_report),
                name="hot-folder", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(10)
            self._thread = None
