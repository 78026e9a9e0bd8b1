"""Originals that are not JPEGs (RAW, HEIC): archived as they are and, when no JPEG of the same
frame exists, made into a photo whose buffer JPEG is derived from them.

The derived JPEG (a RAW's embedded preview, a HEIC converted) is what the rest of the appliance
reads (thumbnails, editor, publish pipeline) exactly like a camera JPEG; the original is archived
and recorded in ``raw_files`` linked to that photo (``photo_id``), the photo marked ``derived_from``.

Which original gets a photo of its own: a frame is known by its pair key (folder + base name).
- a JPEG of the frame in the same import, or already in the store: none, the original is paired
  with it (the import lists every file before copying any, so a card's IMG_0001.JPG counts even
  though IMG_0001.CR2 sorts first);
- a RAW beside a HEIC/HEIF of the frame (Canon's RAW+HEIF): paired with the HEIC's photo;
- otherwise (RAW-only, a phone's HEIC): a derived photo.
A file arriving alone (FTP, upload, hot folder) is decided the same way against the store: a RAW
sent before its JPEG gets a preview photo, and the JPEG arriving later becomes a photo of its own
(both stay; the RAW stays linked to its preview photo, which may already be published).

Identity stays the original's sha256 (``raw_files``): importing the same RAW or HEIC again is a
duplicate found before anything is derived. The derived JPEG is recorded under its own sha256 so
the buffer file can be checked like any other.

Bad input loses nothing: an unreadable RAW, one without a usable preview (under
``importer.raw_min_preview`` px) is archived with a notice in the import report, and developed by
LibRaw only when ``importer.raw_decode`` is on; an unreadable HEIC is skipped like a corrupt JPEG
(the card keeps it), never a broken photo.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..fsutil import atomic_write_bytes
from ..imaging import pipeline
from ..imaging.derive import Derived, DeriveError
from ..imaging.heif import heif_jpeg
from ..imaging.raw_preview import raw_jpeg
from ..store.imports import pair_key, text
from .import_types import Copied
from .import_verdict import Category
from .scan import HEIF, JPEG, RAW, capture_sort_time
from .verified_copy import drop_cached

if TYPE_CHECKING:
    from .import_run import ImportRun

log = logging.getLogger(__name__)
REASON_BAD_HEIF = "corrupt or truncated HEIC/HEIF"


@dataclass(frozen=True)
class Made:
    """A derived JPEG in the buffer with its thumbnail, ready to be recorded."""

    how: str
    sha256: str
    dest: Path
    size: int
    info: pipeline.ExifInfo
    thumb: Path


class PreviewUnreadable(DeriveError):
    """The derived JPEG was written but does not decode (e.g. a preview cut short in a truncated RAW)."""

    def __init__(self, message: str, dest: Path, thumb: Path) -> None:
        super().__init__(message)
        self.dest, self.thumb = dest, thumb


def describe(derived: Derived, dest: Path, thumb: Path, thumb_size: int) -> pipeline.ExifInfo:
    """EXIF and admin thumbnail of a derived JPEG written at ``dest``: a HEIC's thumbnail is made
    from the pixels it was decoded to (its JPEG is not decoded again), a RAW preview's from its
    JPEG at reduced scale (DCT draft)."""
    info = pipeline.read_exif_info(dest)
    if derived.pixels is None:
        pipeline.thumbnail_from_original(dest, thumb, thumb_size)
    else:
        pipeline.thumbnail_from_pixels(derived.pixels, derived.pixels.info.get("icc_profile"),
                                       info.orientation, thumb, thumb_size)
    return info


class Originals:
    """The import's RAW and HEIC files: which get a derived photo, and recording them."""

    def __init__(self, run: ImportRun, candidates: Iterable[tuple[Path, str, os.stat_result]]) -> None:
        self.run = run
        kinds: dict[str, set[str]] = {JPEG: set(), HEIF: set(), RAW: set()}
        for path, kind, _ in candidates:
            kinds.setdefault(kind, set()).add(pair_key(path))
        self.jpegs, self.heifs = kinds[JPEG], kinds[HEIF]
        self.with_photo: set[int] = set()  # sequence numbers of originals that get a derived photo
        self.settings = run.imp.config.importer

    def plan(self, seq: int, path: Path, kind: str) -> None:
        """Decide (in the store's thread, before the copy starts) whether this original gets a photo."""
        if kind == JPEG:
            return
        key = pair_key(path)
        if key in self.jpegs or (kind == RAW and key in self.heifs):
            return  # its JPEG (or HEIC) in this import is the photo
        if self.run.store.photo_id_by_pair_key(key) is None:
            self.with_photo.add(seq)

    def archived(self, copied: Copied, seq: int) -> None:
        """(copy thread) The original is archived and verified: record it, deriving its photo first
        on the thumbnail pool when it gets one."""
        run = self.run
        if seq not in self.with_photo:
            run.results.put((seq, lambda: self._record_paired(copied)))
            return
        run.thumbs.run(self._derive, copied, lambda f: self._derived(f, copied, seq))

    # thumbnail threads -------------------------------------------------------------------------
    def derive(self, copied: Copied) -> Derived:
        if copied.kind == HEIF:
            return heif_jpeg(copied.dest, keep_edge=2 * self.settings.thumb_size)  # pixels for the thumbnail
        return raw_jpeg(copied.dest, self.settings.raw_min_preview, self.settings.raw_decode)

    def _derive(self, copied: Copied) -> Made:
        derived = self.derive(copied)
        imp = self.run.imp
        sha = hashlib.sha256(derived.data).hexdigest()
        dest = imp.buffer_path(sha)
        if not dest.exists():
            atomic_write_bytes(dest, derived.data)
        thumb = imp.thumb_path(sha)
        try:
            info = describe(derived, dest, thumb, self.settings.thumb_size)
        except pipeline.ImageError as exc:
            raise PreviewUnreadable(f"derived JPEG unreadable ({exc})", dest, thumb) from exc
        return Made(derived.how, sha, dest, len(derived.data), info, thumb)

    def _derived(self, future: Future[Made], copied: Copied, seq: int) -> None:
        drop_cached(copied.dest)  # derived, failed or will not be: the original is not read again
        if copied.cached:
            self.run.cache.give_back(copied.size)
        if future.cancelled():  # the import is being torn down: nothing to record
            return
        made: Made | None = None
        reason, stale = "", None
        try:
            made = future.result()
        except PreviewUnreadable as exc:
            reason, stale = str(exc), (exc.dest, exc.thumb)
        except DeriveError as exc:
            reason = str(exc)
        except Exception as exc:  # reported, never lost silently: the original is archived
            reason = f"{type(exc).__name__}: {exc}"

        def record() -> None:
            if stale is not None:
                self._forget(*stale)
            self._record(copied, made, reason)

        self.run.results.put((seq, record))

    # recording (the store's thread) ------------------------------------------------------------
    def _forget(self, dest: Path, thumb: Path) -> None:
        """Remove a derived JPEG that cannot be read, unless a photo already owns it."""
        if self.run.store.photo_id_by_sha(dest.stem) is None:
            dest.unlink(missing_ok=True)
            thumb.unlink(missing_ok=True)

    def _record_original(self, c: Copied) -> bool:
        """Record an archived original; False when its sha256 is recorded already."""
        run = self.run
        return run.store.record_file(
            "raw_files", sha256=c.sha256, original_name=text(c.source.name), source_path=text(c.label),
            archive_path=str(c.dest.relative_to(run.imp.archive)), size=c.size, pair_key=pair_key(c.source),
            import_id=run.import_id,
        )

    def _record_paired(self, c: Copied) -> None:
        """An original whose frame has its JPEG (or HEIC) photo, now or once that one is recorded."""
        report = self.run.report
        (report.raw_archived if self._record_original(c) else report.duplicates).append(c.label)
        report.paired += self.run.store.pair_raw_files(pair_key(c.source))

    def _record(self, c: Copied, made: Made | None, reason: str) -> None:
        run, store, report = self.run, self.run.store, self.run.report
        if made is None and c.kind == HEIF:  # like a corrupt JPEG: skipped, the card keeps it
            if store.raw_by_sha(c.sha256) is None:
                c.dest.unlink(missing_ok=True)
            # libheif's own words vary by file; "too large" and "not installed" are said as they are
            report.skip(c.label, REASON_BAD_HEIF if reason.startswith("not a readable") else reason,
                        Category.UNREADABLE)
            log.info("skipped %s: %s", c.label, reason)
            return
        key = pair_key(c.source)
        if not self._record_original(c):  # the same original twice in this import
            report.duplicates.append(c.label)
            return
        report.raw_archived.append(c.label)
        if made is None:
            report.notice(c.label, reason)
            log.info("%s archived without a photo: %s", c.label, reason)
            return
        if store.record_file(
            "photos", sha256=made.sha256, original_name=text(c.source.name), source_path=text(c.label),
            buffer_path=str(made.dest.relative_to(run.imp.buffer)), size=made.size,
            width=made.info.width, height=made.info.height, orientation=made.info.orientation,
            capture_time=capture_sort_time(made.info.capture_time, c.mtime_ns),
            camera_make=made.info.make, camera_model=made.info.model,
            thumb_path=str(made.thumb.relative_to(run.imp.thumbs)), import_id=run.import_id,
            pair_key=key, derived_from=made.how, rating=made.info.rating, protected=int(c.protected),
        ):
            report.imported.append(c.label)
            report.derived.setdefault(made.how, []).append(c.label)
        # links this original to its photo, and a RAW beside this HEIC (only those count as pairs)
        report.paired += max(0, store.pair_raw_files(key) - 1)
