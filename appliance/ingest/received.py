"""Files received from a camera (over FTP and over USB) imported one at a
time by a worker thread of their own.

Each received file waits in a folder of its own under ``state/``. It goes through the same verified
import as a card (:meth:`Importer.import_paths`: dedupe by sha256, RAW archived, thumbnails) and
its folder is removed only once the buffer holds it (imported, a duplicate, or a RAW archived); a
file the import skips or fails stays where it is, never lost. Whoever received it hears back either
way, in the worker's thread, with that thread's store.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Config
from ..store import Store
from .import_types import ImportReport
from .importer import Importer
from .verified_copy import Hashes

log = logging.getLogger(__name__)
BATCH_MAX = 32  # files of one source imported together at most
RETRY_S = 5.0


@dataclass(frozen=True)
class Received:
    """One received file: where it waits, the import's ``source`` label, and what its receiver
    needs back (``tag``)."""

    path: Path
    source: str
    tag: Any = None
    hashes: Hashes | None = None  # when it was hashed as it arrived: its import reads nothing


# done(store, item, report, safe): report is None when the import raised
Done = Callable[[Store, Received, ImportReport | None, bool], None]


KEPT = "kept"  # a file the import skipped for what it is (not a photo...): its copy is kept
STORED = ("imported", "duplicate", "raw_archived")


def outcome(report: ImportReport, path: Path) -> str | None:
    """What the import did with ``path``: imported, duplicate, raw_archived (the buffer or the
    archive holds it), kept (skipped for what it is), or None (it failed, or the import stopped
    before it)."""
    label = str(path)
    for name, labels in zip(STORED, (report.imported, report.duplicates, report.raw_archived),
                            strict=True):
        if label in labels:
            return name
    if any(label in labels for labels in report.skipped.values()):
        return KEPT
    return None


def safely_stored(report: ImportReport, path: Path) -> bool:
    """Does the buffer (or the RAW archive) hold ``path`` after ``report``'s import?"""
    return outcome(report, path) in STORED


class ReceivedImporter:
    """A queue of received files and the one thread importing them in order."""

    def __init__(self, config: Config, done: Done, name: str = "received-import") -> None:
        self.config = config
        self.done = done
        self.queue: queue.SimpleQueue[Received | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.stopping = threading.Event()

    def start(self) -> None:
        self.thread.start()

    def put(self, item: Received) -> None:
        self.queue.put(item)

    def finish(self) -> None:
        """Import what is queued, then stop the thread."""
        self.stopping.set()
        self.queue.put(None)
        self.thread.join()

    def _open(self) -> tuple[Store, Importer] | None:
        """This thread's store and importer; tried again while the store cannot be opened (locked
        past its timeout, the disk full at start-up): None once told to stop meanwhile."""
        while not self.stopping.is_set():
            store = None
            try:
                store = Store(self.config.db_path)  # SQLite: this thread's own connection
                importer = Importer(self.config, store)
                importer.adopt_sources = True  # received files are ours: linked, not copied
                return store, importer
            except Exception:
                log.exception("the received-file importer cannot start; trying again")
                if store is not None:
                    store.close()
                self.stopping.wait(RETRY_S)
        return None  # what is received stays, imported on the next start

    def _loop(self) -> None:
        opened = self._open()
        if opened is None:
            return
        store, importer = opened
        try:
            while (batch := self._next_batch()) is not None:
                report = self._import(importer, batch)
                for item in batch:
                    self._settle(store, item, report)
        finally:
            store.close()

    def _next_batch(self) -> list[Received] | None:
        """The next file, with every file queued behind it from the same source (a camera sending
        a burst): one import of them all copies and makes thumbnails in parallel. None: stop."""
        first = self.queue.get()
        if first is None:
            return None
        batch = [first]
        while len(batch) < BATCH_MAX:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                break
            if item is None or item.source != first.source:
                self.queue.put(item)  # (after the others: the order of sources may change)
                break
            batch.append(item)
        return batch

    def _settle(self, store: Store, item: Received, report: ImportReport | None) -> None:
        safe = report is not None and safely_stored(report, item.path)
        if safe:  # the buffer holds it: the received copy can go
            shutil.rmtree(item.path.parent, ignore_errors=True)
        elif report is not None:
            log.warning("%s (%s) was not imported (%s); kept in %s", item.path.name,
                        item.source, report.summary(), item.path.parent)
        try:
            self.done(store, item, report, safe)
        except Exception:
            log.exception("after importing %s (%s)", item.path.name, item.source)

    @staticmethod
    def _import(importer: Importer, batch: list[Received]) -> ImportReport | None:
        importer.received_hashes = {item.path: item.hashes for item in batch if item.hashes}
        try:
            return importer.import_paths([(item.path, None) for item in batch], source=batch[0].source)
        except Exception:  # reported; the files stay where they were received
            log.exception("import of %s (%s) failed", ", ".join(i.path.name for i in batch),
                          batch[0].source)
            return None
