"""Card scan: which files of a card or folder are photos to import, and why the rest are skipped."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from .verified_copy import source_error

JPEG, RAW, HEIF = "jpeg", "raw", "heif"
JPEG_SUFFIXES = {".jpg", ".jpeg"}
RAW_SUFFIXES = {".cr2", ".cr3", ".nef", ".arw", ".raf", ".orf", ".rw2", ".dng"}
HEIF_SUFFIXES = {".heic", ".heif", ".hif"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mts", ".m2ts", ".mxf", ".3gp"}
HIDDEN_NAMES = {".ds_store", ".trashes", ".spotlight-v100", ".fseventsd", ".temporaryitems",
                "system volume information", "$recycle.bin", "thumbs.db", "desktop.ini"}
JPEG_MAGIC = b"\xff\xd8\xff"
REASON_EMPTY = "empty file (0 bytes)"
REASON_NOT_JPEG = "not a JPEG (content does not start with a JPEG marker)"
REASON_LIVE_PHOTO = "Live Photo video: its still ({}) is imported"
STILL_SUFFIXES = JPEG_SUFFIXES | HEIF_SUFFIXES


def classify(path: Path) -> tuple[str | None, str | None]:
    """(kind, None) for a file to import, else (None, reason it is skipped), by name alone (a .MOV's
    folder is listed for the still of its Live Photo)."""
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
        return HEIF, None
    if suffix in VIDEO_SUFFIXES:
        still = live_photo_still(path) if suffix == ".mov" else None
        if still is not None:
            return None, REASON_LIVE_PHOTO.format(still)
        return None, f"video ({suffix}), not imported"
    return None, f"not a photo ({suffix or 'no extension'})"


def live_photo_still(movie: Path) -> str | None:
    """The name of the HEIC or JPEG beside a .MOV with its base name (an iPhone Live Photo), or None."""
    stem = movie.stem.lower()
    try:
        names = os.listdir(movie.parent)
    except OSError:
        return None
    return next((n for n in sorted(names) if Path(n).stem.lower() == stem
                 and Path(n).suffix.lower() in STILL_SUFFIXES), None)


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


def read_head(path: Path, n: int = 3) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(n)
    except OSError as exc:  # a pulled card (EIO, ENOTCONN...) stops the import: SourceGone
        raise source_error(exc, path) from exc
