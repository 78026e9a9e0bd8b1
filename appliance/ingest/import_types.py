"""What an import passes between its stages (a :class:`Job` to copy, a :class:`Copied` file to record)
and what it returns (:class:`ImportReport`)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..store import ImportState
from .import_verdict import Category, categorize, category_of_skip


@dataclass
class ImportReport:
    """What one import did; ``skipped`` maps a reason to the files skipped for it, and
    ``skip_categories`` each reason to its report category (:mod:`.import_verdict`)."""

    source: str
    import_id: int | None = None
    state: str = ImportState.RUNNING
    imported: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    raw_archived: list[str] = field(default_factory=list)
    paired: int = 0
    skipped: dict[str, list[str]] = field(default_factory=dict)
    skip_categories: dict[str, str] = field(default_factory=dict)
    # originals (RAW, HEIC) archived without a photo, by reason; photos derived from originals, by how
    notices: dict[str, list[str]] = field(default_factory=dict)
    derived: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str = ""

    def skip(self, path: str, reason: str, category: Category | None = None) -> None:
        """Skip ``path`` for ``reason``, counted in ``category`` (else the reason's own)."""
        self.skipped.setdefault(reason, []).append(path)
        self.skip_categories.setdefault(reason, category or category_of_skip(reason))

    def notice(self, path: str, reason: str) -> None:
        self.notices.setdefault(reason, []).append(path)

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "import_id": self.import_id,
            "state": self.state,
            "message": self.message,
            "imported": len(self.imported),
            "duplicates": len(self.duplicates),
            "raw_archived": len(self.raw_archived),
            "raw_paired": self.paired,
            "skipped": {reason: len(files) for reason, files in self.skipped.items()},
            "skipped_examples": {reason: files[:5] for reason, files in self.skipped.items()},
            "notices": {reason: len(files) for reason, files in self.notices.items()},
            "notice_examples": {reason: files[:5] for reason, files in self.notices.items()},
            "derived": {how: len(files) for how, files in self.derived.items()},
            "errors": self.errors,
            **categorize(self),  # counts, files, safe_to_remove, verdict
        }


@dataclass
class Copied:
    """A verified file at its final path, waiting to be recorded."""

    kind: str
    label: str
    source: Path
    dest: Path
    sha256: str
    size: int
    mtime_ns: int
    cached: bool = False  # its pages are kept in the cache for its thumbnail (counted)
    source_mode: int = 0o644  # the source file's st_mode, as it was listed

    @property
    def protected(self) -> bool:
        """Protected in the camera: on a card, the DCF protect is the FAT/exFAT read-only attribute,
        which Linux's vfat and exfat drivers show as a file without write permission. (FUSE
        drivers, FTP uploads and copied folders do not carry it: their files are writable.)"""
        return not self.source_mode & 0o222


@dataclass
class Job:
    """One file handed to a copy thread: ``hash_first`` when a photo of its size is known,
    None once it was hashed and turned out new (then it is copied, its head already checked)."""

    seq: int
    path: Path
    kind: str
    st: os.stat_result
    hash_first: bool | None


class CacheBudget:
    """Bytes of copies kept in the page cache until their thumbnail reads them: copy threads take,
    thumbnail threads give back, so a slow thumbnail pool cannot fill the memory."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def take(self, size: int) -> bool:
        """Count ``size`` more bytes as cached, unless that would pass the limit."""
        with self._lock:
            if self.used + size > self.limit:
                return False
            self.used += size
            return True

    def give_back(self, size: int) -> None:
        with self._lock:
            self.used -= size
