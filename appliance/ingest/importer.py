"""Import photos into the buffer: verified, atomic, identified by sha256, never written to the source.

Every door (an inserted card, the hot folder, ``appliance import PATH``, the admin's upload) ends in
:meth:`Importer.import_paths`. One import runs as a small pipeline so the card is read at full
speed and can be removed as soon as its last byte is safe:

1. copy threads (``importer.copy_workers`` files at once, so reading, hashing, writing and the
   disk's fsyncs overlap) each read a source once, hashing it while writing a locked temp file in
   the buffer, then fsync it, read it back, compare sha256 and rename it into place —
   JPEGs into the buffer, RAW and HEIC files into the archive (those without a JPEG get a photo
   derived from them: :mod:`.originals`). A file whose size matches a known photo is hashed first,
   so a duplicate is never written. This thread alone talks to the store;
2. thumbnail threads (one per core, running only on CPU the copy leaves idle: SCHED_IDLE) read
   EXIF and make the admin thumbnail from the buffer copy in JPEG draft mode; only then is the
   photo recorded in the store.

A crash at any point leaves at most a locked ``.ingest-*`` temp file (removed on the next start);
the next import of the same card skips what is recorded and finishes the rest.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..config import Config
from ..store import Store
from .import_run import ImportRun
from .import_types import ImportReport
from .scan import card_roots, walk
from .verified_copy import Hashes, clean_stale_temps

log = logging.getLogger(__name__)


class Importer:
    """Imports files into the buffer (JPEGs) and the archive (RAW, HEIC) and records them in the store."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.buffer = config.folder("buffer")
        self.archive = config.folder("archive")
        self.thumbs = config.folder("state") / "thumbs"
        config.ensure_folders()
        for folder in (self.buffer, self.archive, self.thumbs):
            clean_stale_temps(folder)
        store.close_dead_imports()
        self.thumb_workers = config.importer.thumb_workers or os.cpu_count() or 1
        self.copy_workers = config.importer.copy_workers
        # Files that are already the appliance's (received from a camera into state/): linked into
        # the buffer instead of copied when on its filesystem (one write of each frame, not two).
        self.adopt_sources = False
        self.received_hashes: dict[Path, Hashes] = {}  # of files hashed as they were received

    def verify_from_disk(self, source: os.stat_result, folder: Path) -> bool:
        """Whether a copy of ``source`` into ``folder`` is read back past the page cache
        (``importer.verify_from``): with ``auto``, when the source is on another filesystem (a
        card or a drive that may be reformatted, whose reader is mostly slower than the buffer, so
        the re-read overlaps it), not when it shares the copy's (a hot folder or upload on the
        buffer's disk, a local folder), where it would cost the copy a fifth of its speed."""
        mode = self.config.importer.verify_from
        return mode == "disk" or (mode == "auto" and source.st_dev != os.stat(folder).st_dev)

    def buffer_path(self, sha: str) -> Path:
        return self.buffer / sha[:2] / f"{sha}.jpg"

    def archive_path(self, sha: str, suffix: str) -> Path:
        return self.archive / sha[:2] / f"{sha}{suffix.lower()}"

    def thumb_path(self, sha: str) -> Path:
        return self.thumbs / sha[:2] / f"{sha}.jpg"

    # -- doors ----------------------------------------------------------------------------------
    def import_tree(self, root: Path, **options: Any) -> ImportReport:
        """Import every photo under ``root`` (any folder)."""
        return self.import_paths(walk(root), source=str(root), **options)

    def import_card(self, mount: Path, **options: Any) -> ImportReport:
        """Import a mounted card or drive: DCIM/ plus ``importer.folders``."""
        roots = card_roots(mount, self.config.importer.folders)
        options.setdefault("source", str(mount))
        if not roots:
            report = self.import_paths([], **options)
            report.message = "no DCIM folder (nor any of importer.folders) on this drive"
            self.store.update_import(report.import_id or 0, report=report.summary())
            return report
        return self.import_paths((entry for root in roots for entry in walk(root)), **options)

    # -- the pipeline ---------------------------------------------------------------------------
    def import_paths(
        self,
        entries: Iterable[tuple[Path, str | None]],
        source: str,
        card_id: int | None = None,
        abort: threading.Event | None = None,
        after_copy: Callable[[ImportReport], None] | None = None,
        on_chunk: Callable[[Path, int], None] | None = None,
    ) -> ImportReport:
        """Import ``entries`` ((path, skip reason) pairs) as one import recorded in the store.

        ``after_copy`` runs once every file is verified in the buffer (the card may be removed);
        ``abort`` stops the import between chunks; ``on_chunk(path, bytes_so_far)`` is a hook
        called as each file is read.
        """
        run = ImportRun(self, source, card_id, abort or threading.Event(), on_chunk)
        return run.execute(entries, after_copy)
