"""Import photos into the buffer: verified, atomic, identified by sha256, never written to the source.

Every door (an inserted card, the hot folder, ``appliance import PATH``, the admin's upload) ends in
:meth:`Importer.import_paths`. One import runs as a small pipeline so the card is read at full
speed and can be removed as soon as its last byte is safe:

1. this thread reads each source once, hashing it while writing a locked temp file in the buffer
   (a file whose size matches a known photo is hashed first, so a duplicate is never written);
2. a verifier thread fsyncs each temp file, re-reads it from the disk, compares sha256 and renames
   it into place — JPEGs into the buffer, RAW files into the archive;
3. thumbnail threads (one per core, lower CPU priority) read EXIF and make the admin thumbnail
   from the buffer copy in JPEG draft mode; only then is the photo recorded in the store.

A crash at any point leaves at most a locked ``.ingest-*`` temp file (removed on the next start);
the next import of the same card skips what is recorded and finishes the rest.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import ingest_records as records
from . import pipeline
from .config import Config
from .store import Store
from .verified_copy import (
    Aborted,
    CopyError,
    DestinationFull,
    SourceChanged,
    SourceGone,
    Staged,
    clean_stale_temps,
    commit,
    hash_file,
    stage,
)

log = logging.getLogger(__name__)

JPEG, RAW = "jpeg", "raw"
JPEG_SUFFIXES = {".jpg", ".jpeg"}
RAW_SUFFIXES = {".cr2", ".cr3", ".nef", ".arw", ".raf", ".orf", ".rw2", ".dng"}
HEIF_SUFFIXES = {".heic", ".heif", ".hif"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mts", ".m2ts", ".mxf", ".3gp"}
HIDDEN_NAMES = {".ds_store", ".trashes", ".spotlight-v100", ".fseventsd", ".temporaryitems",
                "system volume information", "$recycle.bin", "thumbs.db", "desktop.ini"}
JPEG_MAGIC = b"\xff\xd8\xff"
PROGRESS_EVERY_S = 0.25
VERIFIERS = 2  # files being fsynced and read back at once (keeps the disk's queue busy)

REASON_EMPTY = "empty file (0 bytes)"
REASON_NOT_JPEG = "not a JPEG (content does not start with a JPEG marker)"
REASON_HEIF = "HEIC/HEIF is not supported yet: set the camera to JPEG or JPEG+HEIF"


def classify(path: Path) -> tuple[str | None, str | None]:
    """(kind, None) for a file to import, else (None, reason it is skipped), by name alone."""
    name = path.name
    suffix = path.suffix.lower()
    if name.startswith("._"):
        return None, "macOS metadata file (._*)"
    if name.lower() in HIDDEN_NAMES:
        return None, "system file"
    if name.startswith("."):
        return None, "hidden file"
    if suffix in JPEG_SUFFIXES:
        return JPEG, None
    if suffix in RAW_SUFFIXES:
        return RAW, None
    if suffix in HEIF_SUFFIXES:
        return None, REASON_HEIF
    if suffix in VIDEO_SUFFIXES:
        return None, f"video ({suffix}), not imported"
    return None, f"not a photo ({suffix or 'no extension'})"


def skip_reason(path: Path) -> str | None:
    """Why a file is not imported (by its name), or None."""
    return classify(path)[1]


def _raise(exc: OSError) -> None:
    raise exc


def walk(root: Path) -> Iterator[tuple[Path, str | None]]:
    """Every regular file under ``root`` with its skip reason; hidden folders are not entered.

    A folder that cannot be listed (card pulled, I/O error) raises instead of being skipped.
    """
    for folder, dirnames, filenames in os.walk(root, onerror=_raise):
        kept = []
        for d in sorted(dirnames):
            if d.startswith(".") or d.lower() in HIDDEN_NAMES:
                yield Path(folder) / d, "hidden or system folder"
            else:
                kept.append(d)
        dirnames[:] = kept
        for name in sorted(filenames):
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            yield path, skip_reason(path)


def card_roots(mount: Path, folders: Iterable[str] = ()) -> list[Path]:
    """Where photos live on a mounted drive: DCIM/ (any case) plus the configured folders."""
    roots = [p for p in sorted(mount.iterdir()) if p.is_dir() and p.name.lower() == "dcim"]
    for name in folders:
        path = (mount / name).resolve()
        if path.is_dir() and path.is_relative_to(mount.resolve()) and path not in roots:
            roots.append(path)
    return roots


def capture_sort_time(exif_time: str | None, mtime_ns: int) -> str:
    """Capture time as ISO 8601 with milliseconds, so it sorts as text across cameras.

    EXIF DateTimeOriginal (+ sub-seconds, + offset when present) is the camera's local time; the
    fallback, the file's modification time, is rendered in this machine's local time.
    """
    if exif_time:
        stamp, offset = exif_time[:19], exif_time[19:]
        millis = ".000"
        if offset.startswith("."):
            millis, offset = offset[:4], offset[4:]
        return f"{stamp}{millis}{offset}"
    seconds, nanos = divmod(mtime_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(seconds)) + f".{nanos // 1_000_000:03d}"


@dataclass
class ImportReport:
    """What one import did; ``skipped`` maps a reason to the files skipped for it."""

    source: str
    import_id: int | None = None
    state: str = records.RUNNING
    imported: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    raw_archived: list[str] = field(default_factory=list)
    paired: int = 0
    skipped: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str = ""

    def skip(self, path: str, reason: str) -> None:
        self.skipped.setdefault(reason, []).append(path)

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
            "errors": self.errors,
        }


@dataclass
class _Copied:
    """A verified file at its final path, waiting to be recorded."""

    kind: str
    label: str
    source: Path
    dest: Path
    sha256: str
    size: int
    mtime_ns: int


class Importer:
    """Imports files into the buffer (JPEGs) and the archive (RAW) and records them in the store."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.buffer = config.folder("buffer")
        self.archive = config.folder("archive")
        self.thumbs = config.folder("state") / "thumbs"
        config.ensure_folders()
        for folder in (self.buffer, self.archive, self.thumbs):
            clean_stale_temps(folder)
        records.close_dead_imports(store)
        self.thumb_workers = config.importer.thumb_workers or os.cpu_count() or 1

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

    def import_file(self, path: Path, source: str | None = None) -> ImportReport:
        """Import one file (the admin's upload, tests)."""
        return self.import_paths([(path, skip_reason(path))], source=source or str(path))

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
        run = _Run(self, source, card_id, abort or threading.Event(), on_chunk)
        return run.execute(entries, after_copy)


class _Run:
    """One import: the reading loop, the verifier thread, the thumbnail pool, the store."""

    def __init__(self, importer: Importer, source: str, card_id: int | None,
                 abort: threading.Event, on_chunk: Callable[[Path, int], None] | None) -> None:
        self.imp = importer
        self.store = importer.store
        self.report = ImportReport(source=source)
        self.card_id = card_id
        self.abort = abort
        self.on_chunk = on_chunk
        # (sequence number, action): actions run here, in the order the files were read
        self.results: queue.Queue[tuple[int, Callable[[], None]]] = queue.Queue()
        self.pending: dict[int, Callable[[], None]] = {}
        self.next_seq = self.next_to_record = 0
        self.files_done = 0
        self.bytes_done = 0
        self.last_progress = 0.0
        self.current = ""

    # progress --------------------------------------------------------------------------------
    def _progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last_progress >= PROGRESS_EVERY_S:
            self.last_progress = now
            self.store.update_import(
                self.import_id, files_done=self.files_done, bytes_done=self.bytes_done,
                current_file=records.text(self.current) if self.current else None)

    def _bytes(self, n: int) -> None:
        self.bytes_done += n
        self._progress()

    # main loop -------------------------------------------------------------------------------
    def execute(self, entries: Iterable[tuple[Path, str | None]],
                after_copy: Callable[[ImportReport], None] | None) -> ImportReport:
        self.import_id = 0
        try:
            return self._execute(entries, after_copy)
        except BaseException as exc:  # a bug or the store failing: never leave it "running"
            if self.import_id:
                self.report.message = f"stopped by {type(exc).__name__}: {exc}"
                with contextlib.suppress(Exception):
                    self._finish(records.FAILED)
            raise

    def _execute(self, entries: Iterable[tuple[Path, str | None]],
                 after_copy: Callable[[ImportReport], None] | None) -> ImportReport:
        report = self.report
        candidates: list[tuple[Path, str, os.stat_result]] = []
        listing_error: OSError | None = None
        try:
            for path, reason in entries:
                if reason is None:
                    kind, reason = classify(path)
                else:
                    kind = None
                if kind is None:
                    report.skip(str(path), reason or "not a photo")
                    continue
                try:
                    candidates.append((path, kind, path.stat()))
                except OSError as exc:
                    report.errors[str(path)] = f"cannot read: {exc.strerror}"
        except OSError as exc:  # the files listed so far are still imported
            listing_error = exc
            report.errors[str(exc.filename or report.source)] = f"cannot list: {exc.strerror}"
        # In the camera's order (folder, then file name); photos are recorded in this order too.
        candidates.sort(key=lambda c: str(c[0]))
        self.import_id = self.store.start_import(report.source, self.card_id)
        report.import_id = self.import_id
        self.store.update_import(self.import_id, files_total=len(candidates),
                                 bytes_total=sum(c[2].st_size for c in candidates))
        if self.card_id is not None:
            records.set_card(self.store, self.card_id, import_id=self.import_id,
                             state=records.IMPORTING)

        verify_q: queue.Queue[tuple[int, Staged, str, str] | None] = queue.Queue(
            maxsize=2 * VERIFIERS)
        pool = ThreadPoolExecutor(self.imp.thumb_workers, thread_name_prefix="thumb",
                                  initializer=_lower_priority)
        verifiers = [threading.Thread(target=self._verify_loop, args=(verify_q, pool),
                                      name=f"verify-{n}", daemon=True) for n in range(VERIFIERS)]
        for verifier in verifiers:
            verifier.start()
        state = records.DONE
        if listing_error is not None:
            state = records.IMPORT_INTERRUPTED
            report.message = (f"could not list every folder ({listing_error.strerror}); "
                              "insert the card again to finish")
        try:
            for path, kind, st in candidates:
                self.current = str(path)
                start = self.bytes_done
                try:
                    self._read_one(path, kind, st, verify_q)
                except SourceGone as exc:
                    state, report.message = records.IMPORT_INTERRUPTED, (
                        f"the card went away: {exc.strerror}; insert it again to finish")
                    break
                except Aborted:
                    state = records.IMPORT_INTERRUPTED
                    report.message = "stopped before the end; insert the card again to finish"
                    break
                except DestinationFull as exc:
                    state, report.message = records.FAILED, str(exc.strerror)
                    break
                except CopyError as exc:
                    report.errors[str(path)] = str(exc.strerror or exc)
                    log.warning("import of %s failed: %s", path, exc)
                self.files_done += 1
                self.bytes_done = start + st.st_size
                self._drain()
                self._progress()
        finally:
            for _ in verifiers:
                verify_q.put(None)
            for verifier in verifiers:
                verifier.join()
            self.current = ""
            self._progress(force=True)
        report.state = state
        if after_copy is not None:
            after_copy(report)
        pool.shutdown(wait=True)
        self._drain()
        if self.pending:  # only if a result went missing: never drop one
            with self.store.transaction():
                for seq in sorted(self.pending):
                    self.pending.pop(seq)()
        self._finish(state)
        return report

    def _read_one(self, path: Path, kind: str, st: os.stat_result,
                  verify_q: queue.Queue[tuple[int, Staged, str, str] | None]) -> None:
        """Stage one file (or recognise it as a duplicate or a skip) and hand it to the verifier."""
        label = str(path)
        if st.st_size == 0:
            self.report.skip(label, REASON_EMPTY)
            return
        if kind == JPEG and _head(path) != JPEG_MAGIC:
            self.report.skip(label, REASON_NOT_JPEG)
            return
        if records.size_known(self.store, st.st_size):
            sha = hash_file(path, self.abort)
            if self._known(kind, sha, path):
                self.report.duplicates.append(label)
                return
        start = self.bytes_done
        hook = self.on_chunk

        def on_bytes(n: int) -> None:
            self._bytes(n)
            if hook is not None:
                hook(path, self.bytes_done - start)

        staged = stage(path, self.imp.buffer if kind == JPEG else self.imp.archive,
                       on_bytes, self.abort)
        if self._known(kind, staged.sha256, path):  # appeared meanwhile (another door)
            staged.discard()
            self.report.duplicates.append(label)
            return
        verify_q.put((self.next_seq, staged, kind, label))
        self.next_seq += 1

    def _known(self, kind: str, sha: str, path: Path) -> bool:
        """Already in the store? (Re-pairs a RAW and its JPEG across imports.)"""
        key = records.pair_key(path)
        if kind == JPEG:
            if records.photo_id_by_sha(self.store, sha) is None:
                return False
        elif records.raw_by_sha(self.store, sha) is None:
            return False
        self.report.paired += records.pair(self.store, key)
        return True

    # verifier thread ---------------------------------------------------------------------------
    def _verify_loop(self, verify_q: queue.Queue[tuple[int, Staged, str, str] | None],
                     pool: ThreadPoolExecutor) -> None:
        while (item := verify_q.get()) is not None:
            # Files already read in full are committed even after an abort: they are whole.
            seq, staged, kind, label = item
            dest = (self.imp.buffer_path(staged.sha256) if kind == JPEG
                    else self.imp.archive_path(staged.sha256, staged.source.suffix))
            copied = _Copied(kind, label, staged.source, dest, staged.sha256, staged.size,
                             staged.mtime_ns)
            try:
                commit(staged, dest)
            except Exception as exc:  # noqa: BLE001 - reported for this file, the rest goes on
                message = str(getattr(exc, "strerror", None) or exc)
                self.results.put((seq, lambda label=label, m=message: self._error(label, m)))
                continue
            if kind == RAW:
                self.results.put((seq, lambda c=copied: self._record_raw(c)))
            else:
                future = pool.submit(self._describe, copied)
                future.add_done_callback(lambda f, c=copied, n=seq: self._described(f, c, n))

    # thumbnail threads -------------------------------------------------------------------------
    def _describe(self, copied: _Copied) -> tuple[_Copied, pipeline.ExifInfo, Path]:
        info = pipeline.read_exif_info(copied.dest)
        thumb = self.imp.thumb_path(copied.sha256)
        pipeline.thumbnail_from_original(copied.dest, thumb, self.imp.config.importer.thumb_size)
        return copied, info, thumb

    def _described(self, future: Future[tuple[_Copied, pipeline.ExifInfo, Path]],
                   copied: _Copied, seq: int) -> None:
        try:
            _, info, thumb = future.result()
        except pipeline.ImageError as exc:
            message = str(exc)
            self.results.put((seq, lambda: self._corrupt(copied, message)))
            return
        except Exception as exc:  # noqa: BLE001 - reported, never lost silently
            message = f"{type(exc).__name__}: {exc}"
            self.results.put((seq, lambda: self._error(copied.label, message)))
            return
        self.results.put((seq, lambda: self._record_photo(copied, info, thumb)))

    # recording (this thread only: the store connection is not shared) --------------------------
    def _drain(self) -> None:
        """Run the actions that are ready, in sequence order."""
        while True:
            try:
                seq, action = self.results.get_nowait()
            except queue.Empty:
                break
            self.pending[seq] = action
        if self.next_to_record not in self.pending:
            return
        with self.store.transaction():  # one commit (one fsync) for every photo ready now
            while self.next_to_record in self.pending:
                self.pending.pop(self.next_to_record)()
                self.next_to_record += 1

    def _record_photo(self, c: _Copied, info: pipeline.ExifInfo, thumb: Path) -> None:
        key = records.pair_key(c.source)
        created = records.insert(
            self.store, "photos",
            sha256=c.sha256,
            original_name=records.text(c.source.name),
            source_path=records.text(c.label),
            buffer_path=str(c.dest.relative_to(self.imp.buffer)),
            size=c.size,
            width=info.width,
            height=info.height,
            orientation=info.orientation,
            capture_time=capture_sort_time(info.capture_time, c.mtime_ns),
            camera_make=info.make,
            camera_model=info.model,
            thumb_path=str(thumb.relative_to(self.imp.thumbs)),
            import_id=self.import_id,
            pair_key=key,
        )
        (self.report.imported if created else self.report.duplicates).append(c.label)
        self.report.paired += records.pair(self.store, key)

    def _record_raw(self, c: _Copied) -> None:
        key = records.pair_key(c.source)
        created = records.insert(
            self.store, "raw_files", sha256=c.sha256, original_name=records.text(c.source.name),
            source_path=records.text(c.label), archive_path=str(c.dest.relative_to(self.imp.archive)),
            size=c.size, pair_key=key, import_id=self.import_id,
        )
        (self.report.raw_archived if created else self.report.duplicates).append(c.label)
        self.report.paired += records.pair(self.store, key)

    def _corrupt(self, c: _Copied, message: str) -> None:
        if records.photo_id_by_sha(self.store, c.sha256) is None:
            c.dest.unlink(missing_ok=True)
        self.report.skip(c.label, "corrupt or truncated JPEG")
        log.info("skipped %s: %s", c.label, message)

    def _error(self, label: str, message: str) -> None:
        self.report.errors[label] = message
        log.warning("import of %s failed: %s", label, message)

    def _finish(self, state: str) -> None:
        summary = self.report.summary()
        self.store.update_import(
            self.import_id, state=state, finished_at=records.utcnow(),
            imported=summary["imported"], duplicates=summary["duplicates"],
            skipped=sum(summary["skipped"].values()) + len(self.report.errors),
            report=summary, current_file=None,
        )


def _head(path: Path, n: int = 3) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(n)
    except OSError as exc:
        raise SourceChanged(exc.errno, f"{path.name}: cannot read ({exc.strerror})") from exc


def _lower_priority() -> None:
    """Thumbnail threads yield the CPU to copying and verifying (Linux: per-thread nice)."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
