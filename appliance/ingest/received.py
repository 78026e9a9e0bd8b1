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

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Received:
    """One received file: where it waits, the import's ``source`` label, and what its receiver
    needs back (``tag``)."""

    path: Path
    source: str
    tag: Any = None


# done(store, item, report, safe): report is None when the import raised
Done = Callable[[Store, Received, ImportReport | None, bool], None]


def safely_stored(report: ImportReport, path: Path) -> bool:
    """Does the buffer (or the RAW archive) hold ``path`` after ``report``'s import?"""
    label = str(path)
    return label in report.imported or label in report.duplicates or label in report.raw_archived


class ReceivedImporter:
    """A queue of received files and the one thread importing them in order."""

    def __init__(self, config: Config, done: Done, name: str = "received-import") -> None:
        self.config = config
        self.done = done
        self.queue: queue.SimpleQueue[Received | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def put(self, item: Received) -> None:
        self.queue.put(item)

    def finish(self) -> None:
        """Import what is queued, then stop the thread."""
        self.queue.put(None)
        self.thread.join()

    def _loop(self) -> None:
        store = Store(self.config.db_path)  # SQLite: this thread's own connection
        try:
            importer = Importer(self.config, store)
            while (item := self.queue.get()) is not None:
                report = self._import_one(importer, item)
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
        finally:
            store.close()

    @staticmethod
    def _import_one(importer: Importer, item: Received) -> ImportReport | None:
        try:
            return importer.import_paths([(item.path, None)], source=item.source)
        except Exception:  # reported; the file stays where it was received
            log.exception("import of %s (%s) failed", item.path.name, item.source)
            return None
