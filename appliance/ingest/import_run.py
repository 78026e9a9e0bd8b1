"""One import as a small pipeline: copy threads, the thumbnail pool and, in the calling thread, the store.

See :mod:`.importer` for the order of the steps and what a crash leaves behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING

from ..imaging import pipeline
from ..store import CardState, ImportState, utcnow
from ..store.imports import pair_key, text
from .import_types import CacheBudget, Copied, ImportReport, Job
from .import_verdict import Category, category_of_skip
from .originals import Originals
from .scan import JPEG, JPEG_MAGIC, REASON_EMPTY, REASON_NOT_JPEG, capture_sort_time, classify, read_head
from .thumb_pool import ThumbPool
from .verified_copy import (
    Aborted,
    CopyError,
    DestinationFull,
    SourceGone,
    adopt,
    commit,
    drop_cached,
    hash_file,
    stage,
)

if TYPE_CHECKING:
    from .importer import Importer

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.25
# Copies kept in the page cache until their thumbnail is made, at most (an eighth of the memory,
# up to 512 MB); past it a copy is dropped after its check and its thumbnail reads the disk.
THUMB_CACHE_BYTES = min(512 << 20, os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 8)
MESSAGE_ABORTED = "stopped before the end; insert the card again to finish"
COPIED, NOT_JPEG = "copied", "not a JPEG"  # what a copy thread returns, besides a sha256


class ImportRun:
    """One import: copy threads, the thumbnail pool and, in this thread, the store."""

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
        self.in_flight: dict[Future[str], Job] = {}
        # bytes read so far of each file in flight: keys added and removed by this thread only,
        # each value updated by the one copy thread working on that file
        self.reading: dict[int, int] = {}
        self.files_done = 0
        self.bytes_finished = 0
        self.cache = CacheBudget(THUMB_CACHE_BYTES)
        self.last_progress = 0.0
        self.current = ""
        self.state = ImportState.DONE
        self.stopped = False

    # progress --------------------------------------------------------------------------------
    @property
    def bytes_done(self) -> int:
        return self.bytes_finished + sum(self.reading.values())

    def _progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last_progress >= PROGRESS_EVERY_S:
            self.last_progress = now
            self.store.update_import(
                self.import_id, files_done=self.files_done, bytes_done=self.bytes_done,
                current_file=text(self.current) if self.current else None)

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
                    self._finish(ImportState.FAILED)
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
                    reason = reason or "not a photo"
                    report.skip(str(path), reason, category_of_skip(reason))
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
        self.originals = Originals(self, candidates)  # RAW and HEIC files: paired, or a derived photo
        self.import_id = self.store.start_import(report.source, self.card_id)
        report.import_id = self.import_id
        self.store.update_import(self.import_id, files_total=len(candidates),
                                 bytes_total=sum(c[2].st_size for c in candidates))
        if self.card_id is not None:
            self.store.set_card(self.card_id, import_id=self.import_id, state=CardState.IMPORTING)
        if listing_error is not None:
            self.state = ImportState.INTERRUPTED
            report.message = (f"could not list every folder ({listing_error.strerror}); "
                              "insert the card again to finish")

        # Thumbnails run only on a core the copy leaves idle: the card's last byte is safe sooner
        # (measured: 2 GB copied in 2.55 s instead of 2.85 s with thumbnails at nice 10), and a
        # card reader slower than the CPU leaves them plenty.
        self.thumbs = ThumbPool(self.imp.thumb_workers)
        self.copiers = ThreadPoolExecutor(self.imp.copy_workers, thread_name_prefix="copy")
        try:
            return self._copy_and_record(candidates, after_copy)
        except BaseException:
            self.thumbs.shutdown(wait=False, cancel_futures=True)
            raise

    def _copy_and_record(self, candidates: list[tuple[Path, str, os.stat_result]],
                         after_copy: Callable[[ImportReport], None] | None) -> ImportReport:
        report = self.report
        try:
            for path, kind, st in candidates:
                if self.abort.is_set():
                    self._stop(ImportState.INTERRUPTED, MESSAGE_ABORTED)
                if self.stopped:
                    break
                self._start(path, kind, st)
                while len(self.in_flight) >= self.imp.copy_workers:
                    self._wait()
            while self.in_flight:
                self._wait()
        finally:
            # Files already read in full are committed even after an abort: they are whole.
            self.copiers.shutdown(wait=True)
            self.current = ""
            self._progress(force=True)
        report.state = self.state
        if after_copy is not None:
            after_copy(report)
        while self.thumbs.busy:  # each photo recorded once it (and those before it) is ready
            with contextlib.suppress(queue.Empty):
                seq, action = self.results.get(timeout=PROGRESS_EVERY_S)
                self.pending[seq] = action
                self._drain()
        self.thumbs.shutdown(wait=True)
        if self.cache.used:  # every copy kept for its thumbnail is dropped once it is made
            log.warning("%d bytes of copies still counted as cached for thumbnails", self.cache.used)
        self._drain()
        if self.pending:  # only if a result went missing: never drop one
            with self.store.transaction():
                for seq in sorted(self.pending):
                    self.pending.pop(seq)()
        self._finish(self.state)
        return report

    def _stop(self, state: str, message: str) -> None:
        """Start no more files; the first reason given is the one reported."""
        if not self.stopped:
            self.stopped = True
            self.state, self.report.message = state, message

    def _start(self, path: Path, kind: str, st: os.stat_result) -> None:
        """Hand one file to a copy thread (the store is read here, in this thread)."""
        if st.st_size == 0:
            self.report.skip(str(path), REASON_EMPTY, Category.ZERO_BYTE)
            return self._count(st)
        seq, self.next_seq = self.next_seq, self.next_seq + 1
        self.originals.plan(seq, path, kind)
        self._launch(Job(seq, path, kind, st, self.store.size_known(st.st_size)))

    def _launch(self, job: Job) -> None:
        self.current = str(job.path)
        self.reading[job.seq] = 0
        self.in_flight[self.copiers.submit(self._copy_one, job)] = job

    def _wait(self) -> None:
        """Handle the files the copy threads finish (and publish progress meanwhile)."""
        done, _ = wait(self.in_flight, timeout=max(PROGRESS_EVERY_S, 0.01),
                       return_when=FIRST_COMPLETED)
        for future in done:
            job = self.in_flight.pop(future)
            read = self.reading.pop(job.seq, 0)
            try:
                sha = future.result()
            except (CopyError, Aborted, OSError) as exc:
                self.pending[job.seq] = _nothing
                self._failed(job, exc, read)
                continue
            if sha == COPIED:  # verified in place: recorded once its thumbnail is made
                self._count(job.st)
            elif sha == NOT_JPEG:
                self.pending[job.seq] = _nothing
                self.report.skip(str(job.path), REASON_NOT_JPEG, Category.UNREADABLE)
                self._count(job.st)
            elif self._known(job.kind, sha, job.path):
                self.pending[job.seq] = _nothing
                self.report.duplicates.append(str(job.path))
                self._count(job.st)
            elif self.stopped:
                self.pending[job.seq] = _nothing
                self.bytes_finished += read
            else:  # same size as a known photo, other content: copy it after all
                self._launch(Job(job.seq, job.path, job.kind, job.st, hash_first=None))
        self._drain()
        self._progress()

    def _count(self, st: os.stat_result) -> None:
        self.files_done += 1
        self.bytes_finished += st.st_size

    def _failed(self, job: Job, exc: BaseException, read: int = 0) -> None:
        """A file that could not be copied: the import stops (card gone, stopped, disk full) or
        the file is reported and the rest goes on. Bytes read stay counted: progress never goes
        back."""
        if isinstance(exc, SourceGone | Aborted | DestinationFull):
            self.bytes_finished += read
        if isinstance(exc, SourceGone):
            self._stop(ImportState.INTERRUPTED,
                       f"the card went away: {exc.strerror}; insert it again to finish")
        elif isinstance(exc, Aborted):
            self._stop(ImportState.INTERRUPTED, MESSAGE_ABORTED)
        elif isinstance(exc, DestinationFull):
            self._stop(ImportState.FAILED, str(exc.strerror))
        else:
            message = str(getattr(exc, "strerror", None) or exc)
            self.report.errors[str(job.path)] = message
            log.warning("import of %s failed: %s", job.path, message)
            self._count(job.st)

    def _known(self, kind: str, sha: str, path: Path) -> bool:
        """Already in the store? (Re-pairs a RAW and its JPEG across imports.)"""
        key = pair_key(path)
        if kind == JPEG:
            if self.store.photo_id_by_sha(sha) is None:
                return False
        elif self.store.raw_by_sha(sha) is None:
            return False
        self.report.paired += self.store.pair_raw_files(key)
        return True

    # copy threads ------------------------------------------------------------------------------
    def _copy_one(self, job: Job) -> str:
        """Copy and verify one file (COPIED), or say it is NOT_JPEG; or, for a possible
        duplicate, only return its sha256 (the copy, if needed, then reads the page cache)."""
        if job.kind == JPEG and job.hash_first is not None and read_head(job.path) != JPEG_MAGIC:
            return NOT_JPEG
        known = self.imp.received_hashes.get(job.path)  # hashed as it arrived (FTP)
        if job.hash_first:
            return known[0] if known and known[2] == job.st.st_size else hash_file(job.path, self.abort)
        hook = self.on_chunk

        def on_bytes(n: int) -> None:
            self.reading[job.seq] += n
            if hook is not None:
                hook(job.path, self.reading[job.seq])

        folder = self.imp.buffer if job.kind == JPEG else self.imp.archive
        staged = (self.imp.adopt_sources and adopt(job.path, folder, known)) or stage(
            job.path, folder, on_bytes, self.abort)
        dest = (self.imp.buffer_path(staged.sha256) if job.kind == JPEG
                else self.imp.archive_path(staged.sha256, job.path.suffix))
        commit(staged, dest, self.imp.verify_from_disk(job.st, folder))
        # kept cached for what reads it next: a JPEG's thumbnail, a RAW-only frame's or HEIC's deriving
        read_again = job.kind == JPEG or job.seq in self.originals.with_photo
        copied = Copied(job.kind, str(job.path), job.path, dest, staged.sha256, staged.size,
                         staged.mtime_ns, cached=read_again and self.cache.take(staged.size),
                         source_mode=job.st.st_mode)
        if not copied.cached:  # a paired RAW (not read again), or over the budget
            drop_cached(dest)
        if job.kind != JPEG:
            self.originals.archived(copied, job.seq)
        else:
            self.thumbs.run(self._describe, copied, lambda f: self._described(f, copied, job.seq))
        return COPIED

    # thumbnail threads -------------------------------------------------------------------------
    def _describe(self, copied: Copied) -> tuple[Copied, pipeline.ExifInfo, Path]:
        # the copy's pages are still cached from its verification (dropped in _described)
        info = pipeline.read_exif_info(copied.dest)
        thumb = self.imp.thumb_path(copied.sha256)
        pipeline.thumbnail_from_original(copied.dest, thumb, self.imp.config.importer.thumb_size)
        return copied, info, thumb

    def _described(self, future: Future[tuple[Copied, pipeline.ExifInfo, Path]],
                   copied: Copied, seq: int) -> None:
        drop_cached(copied.dest)  # its thumbnail is made, failed or will not be made
        if copied.cached:
            self.cache.give_back(copied.size)
        if future.cancelled():  # the import is being torn down: nothing to record
            return
        try:
            _, info, thumb = future.result()
        except pipeline.ImageError as exc:
            message = str(exc)
            self.results.put((seq, lambda: self._corrupt(copied, message)))
            return
        except Exception as exc:  # reported, never lost silently
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

    def _record_photo(self, c: Copied, info: pipeline.ExifInfo, thumb: Path) -> None:
        key = pair_key(c.source)
        created = self.store.record_file(
            "photos",
            sha256=c.sha256,
            original_name=text(c.source.name),
            source_path=text(c.label),
            buffer_path=str(c.dest.relative_to(self.imp.buffer)),
            size=c.size,
            width=info.width,
            height=info.height,
            orientation=info.orientation,
            capture_time=capture_sort_time(info.capture_time, c.mtime_ns),
            camera_make=info.make,
            camera_model=info.model, rating=info.rating, protected=int(c.protected),
            thumb_path=str(thumb.relative_to(self.imp.thumbs)),
            import_id=self.import_id,
            pair_key=key,
        )
        (self.report.imported if created else self.report.duplicates).append(c.label)
        self.report.paired += self.store.pair_raw_files(key)

    def _corrupt(self, c: Copied, message: str) -> None:
        if self.store.photo_id_by_sha(c.sha256) is None:
            c.dest.unlink(missing_ok=True)
        self.report.skip(c.label, "corrupt or truncated JPEG", Category.UNREADABLE)
        log.info("skipped %s: %s", c.label, message)

    def _error(self, label: str, message: str) -> None:
        self.report.errors[label] = message
        log.warning("import of %s failed: %s", label, message)

    def _finish(self, state: str) -> None:
        summary = self.report.summary()
        self.store.update_import(
            self.import_id, state=state, finished_at=utcnow(),
            imported=summary["imported"], duplicates=summary["duplicates"],
            skipped=sum(summary["skipped"].values()) + len(self.report.errors),
            report=summary, current_file=None,
        )


def _nothing() -> None:
    """The recording step of a file that adds nothing to the store."""
