"""Crash-safe file writes: temp file in the destination folder, fsync, rename, fsync folder."""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

TEMP_PREFIX = ".tmp-"
SYNC_FILE_RANGE_WRITE = 2  # from linux/fs.h: start writing the dirty pages, do not wait


def fsync_dir(folder: Path) -> None:
    """Persist a rename or unlink in ``folder``."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@functools.cache
def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    try:  # Linux C libraries only; glibc and musl take 64-bit offsets on every architecture
        func = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    return func


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Start writing ``length`` bytes of ``fd`` from ``offset`` to the disk, without waiting, so
    a later fsync has little left to do (Linux ``sync_file_range``; elsewhere nothing).
    Best effort: where it fails the pages wait for fsync, which reports any write error."""
    func = _sync_file_range()
    if func is not None and func(fd, offset, length, SYNC_FILE_RANGE_WRITE) != 0:
        _writeback_failed(ctypes.get_errno())


@functools.cache
def _writeback_failed(errno_value: int) -> None:  # logged once per error
    log.info("sync_file_range failed (%s): copies wait for fsync", os.strerror(errno_value))


@contextmanager
def atomic_file(path: Path, mode: int = 0o644) -> Iterator[BinaryIO]:
    """Yield a temp file beside ``path``; on success fsync and rename it into place.

    Readers see either the old file or the complete new one, never a partial file;
    on error the temp file is removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "w+b") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_file(path) as handle:
        handle.write(data)


def atomic_save(path: Path, save: Callable[[BinaryIO], None]) -> None:
    """Atomically write whatever ``save(handle)`` writes (e.g. ``image.save``)."""
    with atomic_file(path) as handle:
        save(handle)


def clean_temp_files(folder: Path, older_than_s: float = 0) -> int:
    """Remove temp files a crashed writer left (never renamed into place).

    Only files older than ``older_than_s`` go: a recent one may belong to a writer still at work.
    """
    removed = 0
    if folder.is_dir():
        cutoff = time.time() - older_than_s
        for leftover in folder.rglob(f"{TEMP_PREFIX}*"):
            try:
                if older_than_s <= 0 or leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
    return removed
