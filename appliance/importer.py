"""Import photos from a card (or any folder) into the buffer: verified, atomic, identified by sha256.

The copy goes to a temp file in the buffer, is fsynced, re-read and compared with the source's
sha256, renamed into place and only then recorded in the store. Nothing is ever written to the
source.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import pipeline
from .config import Config
from .fsutil import TEMP_PREFIX, atomic_file, clean_temp_files
from .store import Store

log = logging.getLogger(__name__)

CHUNK = 1 << 20
JPEG_SUFFIXES = {".jpg", ".jpeg"}
HIDDEN_NAMES = {".ds_store", ".trashes", ".spotlight-v100", ".fseventsd",
                "system volume information", "$recycle.bin", "thumbs.db"}


class SourceChanged(OSError):
    """The source file changed or vanished while it was being copied."""


@dataclass
class ImportReport:
    """What one import did; ``skipped`` maps a reason to the files skipped for it."""

    source: str
    imported: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def skip(self, path: str, reason: str) -> None:
        self.skipped.setdefault(reason, []).append(path)

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "imported": len(self.imported),
            "duplicates": len(self.duplicates),
            "skipped": {reason: len(files) for reason, files in self.skipped.items()},
            "errors": self.errors,
        }


def skip_reason(path: Path) -> str | None:
    """Why a file is not imported, or None for a JPEG to import."""
    name = path.name
    if name.startswith("._"):
        return "macOS metadata file"
    if name.startswith(".") or name.lower() in HIDDEN_NAMES:
        return "hidden file"
    if path.suffix.lower() not in JPEG_SUFFIXES:
        return f"not a JPEG ({path.suffix.lower() or 'no extension'})"
    return None


def walk(root: Path) -> Iterator[tuple[Path, str | None]]:
    """Every regular file under ``root`` with its skip reason; hidden folders are not entered."""
    for folder, dirnames, filenames in os.walk(root):
        kept = []
        for d in sorted(dirnames):
            if d.startswith(".") or d.lower() in HIDDEN_NAMES:
                yield Path(folder) / d, "hidden folder"
            else:
                kept.append(d)
        dirnames[:] = kept
        for name in sorted(filenames):
            path = Path(folder) / name
            if not path.is_file() or path.is_symlink():
                continue
            yield path, skip_reason(path)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_verified(source: Path, dest: Path, expected_sha: str, on_bytes: Callable[[int], None]) -> None:
    """Copy ``source`` to ``dest`` atomically, verifying the written bytes hash to ``expected_sha``."""
    stat_before = source.stat()
    with atomic_file(dest) as out:
        digest = hashlib.sha256()
        with open(source, "rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                on_bytes(len(chunk))
        if digest.hexdigest() != expected_sha:
            raise SourceChanged(f"{source.name} changed while it was being copied")
        out.flush()
        os.fsync(out.fileno())
        # Drop the written pages from the cache so the check reads what is on the disk.
        os.posix_fadvise(out.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        written = hashlib.sha256()
        out.seek(0)
        while chunk := out.read(CHUNK):
            written.update(chunk)
        if written.hexdigest() != expected_sha:
            raise OSError(f"verification failed for {source.name}: written copy differs")
    stat_after = source.stat()
    if (stat_after.st_size, stat_after.st_mtime_ns) != (
        stat_before.st_size,
        stat_before.st_mtime_ns,
    ):
        dest.unlink(missing_ok=True)
        raise SourceChanged(f"{source.name} changed while it was being copied")


class Importer:
    """Imports files into the buffer and records them in the store."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.buffer = config.folder("buffer")
        self.thumbs = config.folder("state") / "thumbs"
        config.ensure_folders()
        clean_temp_files(self.buffer)
        clean_temp_files(self.thumbs)

    def buffer_path(self, sha: str) -> Path:
        return self.buffer / sha[:2] / f"{sha}.jpg"

    def import_file(self, path: Path, report: ImportReport, import_id: int | None,
                    on_bytes: Callable[[int], None] = lambda n: None) -> None:
        """Import one candidate file, recording the outcome in ``report``."""
        label = str(path)
        reason = skip_reason(path)
        if reason:
            report.skip(label, reason)
            return
        try:
            size = path.stat().st_size
            if size == 0:
                report.skip(label, "empty file (0 bytes)")
                return
            sha = sha256_file(path)
            if self.store.photo_by_sha(sha):
                report.duplicates.append(label)
                on_bytes(size)
                return
            try:
                info = pipeline.read_exif_info(path)
            except pipeline.ImageError as exc:
                report.skip(label, f"unreadable JPEG: {exc}")
                return
            dest = self.buffer_path(sha)
            if not (dest.exists() and sha256_file(dest) == sha):
                copy_verified(path, dest, sha, on_bytes)
            thumb = self.thumbs / sha[:2] / f"{sha}.jpg"
            try:
                pipeline.thumbnail_from_original(dest, thumb, self.config.importer.thumb_size)
            except pipeline.ImageError as exc:
                dest.unlink(missing_ok=True)
                report.skip(label, str(exc))  # already says why: "corrupt or truncated JPEG: ..."
                return
            _, created = self.store.add_photo(
                sha256=sha,
                original_name=path.name,
                source_path=label,
                buffer_path=str(dest.relative_to(self.buffer)),
                size=size,
                width=info.width,
                height=info.height,
                orientation=info.orientation,
                capture_time=info.capture_time,
                camera_make=info.make,
                camera_model=info.model,
                thumb_path=str(thumb.relative_to(self.thumbs)),
                import_id=import_id,
            )
            (report.imported if created else report.duplicates).append(label)
        except OSError as exc:
            report.errors[label] = f"{type(exc).__name__}: {exc}"
            log.warning("import of %s failed: %s", label, exc)

    def import_tree(self, root: Path) -> ImportReport:
        """Import every photo under ``root`` (a card's mount point or any folder)."""
        report = ImportReport(source=str(root))
        candidates: list[Path] = []
        for path, reason in walk(root):
            if reason:
                report.skip(str(path), reason)
            else:
                candidates.append(path)
        import_id = self.store.start_import(str(root))
        sizes = [_size(p) for p in candidates]
        self.store.update_import(import_id, files_total=len(candidates), bytes_total=sum(sizes))
        done_bytes = 0

        def on_bytes(n: int) -> None:
            nonlocal done_bytes
            done_bytes += n

        for index, (path, size) in enumerate(zip(candidates, sizes, strict=True), start=1):
            before = done_bytes
            self.import_file(path, report, import_id, on_bytes)
            # skipped and failed files count as done too, so progress ends at bytes_total
            done_bytes = before + size
            self.store.update_import(import_id, files_done=index, bytes_done=done_bytes)
        summary = report.summary()
        self.store.update_import(
            import_id,
            state="done",
            finished_at=_now(),
            imported=summary["imported"],
            duplicates=summary["duplicates"],
            skipped=sum(summary["skipped"].values()) + len(report.errors),
            report=summary,
        )
        return report


class FolderWatcher:
    """Imports files that appear in a folder once their size and mtime are stable."""

    def __init__(self, importer: Importer, folder: Path) -> None:
        self.importer = importer
        self.folder = folder
        self.seen: dict[Path, tuple[int, int]] = {}
        self.done: dict[Path, tuple[int, int]] = {}

    def scan(self, on_bytes: Callable[[int], None] = lambda n: None) -> ImportReport | None:
        """One pass: import files unchanged since the previous pass; None when nothing to do.

        ``on_bytes`` is called as bytes are copied (the service pings its watchdog there).
        """
        stable: list[Path] = []
        current: dict[Path, tuple[int, int]] = {}
        if not self.folder.is_dir():
            return None
        for path, reason in walk(self.folder):
            if reason or path.name.startswith(TEMP_PREFIX):
                continue
            try:
                st = path.stat()
            except OSError:
                continue
            sig = (st.st_size, st.st_mtime_ns)
            current[path] = sig
            if self.done.get(path) == sig:
                continue
            if self.seen.get(path) == sig:
                stable.append(path)
        self.seen = current
        if not stable:
            return None
        report = ImportReport(source=str(self.folder))
        import_id = self.importer.store.start_import(str(self.folder))
        for path in stable:
            self.importer.import_file(path, report, import_id, on_bytes)
            if str(path) not in report.errors:
                self.done[path] = current[path]
        summary = report.summary()
        self.importer.store.update_import(
            import_id, state="done", finished_at=_now(), files_total=len(stable),
            files_done=len(stable), imported=summary["imported"],
            duplicates=summary["duplicates"], skipped=sum(summary["skipped"].values()),
            report=summary,
        )
        return report


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _now() -> str:
    from .store import utcnow

    return utcnow()
