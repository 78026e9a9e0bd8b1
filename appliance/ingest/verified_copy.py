"""Verified, crash-safe copies from a card: nothing partial is ever visible at a final path.

A copy happens in two steps so that reading the next file overlaps writing this one:

1. :func:`stage` reads the source once, hashing it while writing a temp file (``.ingest-*``) in the
   destination filesystem, and starts the disk writing each MiB as soon as it is written. The temp
   file is ``flock``-ed for as long as it lives, so a cleaner in another process can tell a
   crashed copy from one in progress.
2. :func:`commit` fsyncs the temp file, reads it back, compares it with the source by their
   BLAKE3 digests and only then renames it into place and fsyncs the folder. The read-back goes
   through the page cache (the pages fsync just wrote) unless ``from_disk``: then the pages are
   dropped first, so the disk itself is read, at the cost of reading every file once more from
   the buffer's disk.

Two digests of the source, each for its job: sha256 is the photo's identity (buffer names,
duplicates, the store); BLAKE3, as strong a 256-bit cryptographic hash, checks the read-back at
4-5× sha256's speed where the CPU has SHA instructions (a 2-core Xeon: 5.0 against 1.2 GB/s) and
far more where it has none (a Pi 4). A second sha256 pass was a third of an import's CPU time.

Nothing is ever opened for writing on the source side.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import fcntl
import hashlib
import os
import secrets
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from blake3 import blake3

from ..fsutil import clean_temp_files, fsync_dir, start_writeback

TEMP_PREFIX = ".ingest-"
CHUNK = 1 << 18  # read, hash and write while the chunk is still in the CPU's L2 cache
# Each MiB written is sent to the disk at once, while the next is read: the disk writes during
# the copy instead of all at fsync (2 GB same-disk import: 2.16 s -> 2.0 s).
WRITEBACK_STEP = 1 << 20
# errno values meaning "the card (or its reader, or its FUSE driver) is gone"
DEVICE_GONE = {errno.EIO, errno.ENODEV, errno.ENXIO, errno.ENOTCONN, errno.ESHUTDOWN,
               errno.ENOMEDIUM, errno.ESTALE, errno.ECONNABORTED}
DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


class CopyError(OSError):
    """A copy failed; nothing was left at the destination."""


class SourceChanged(CopyError):
    """The source changed or vanished while it was being read."""


class SourceGone(CopyError):
    """The source device stopped answering (card pulled, reader unplugged)."""


class DestinationFull(CopyError):
    """The buffer's filesystem is full."""


class VerificationFailed(CopyError):
    """What was written does not read back with the source's sha256."""


class Aborted(Exception):
    """The copy was asked to stop (card removed, service stopping)."""


@dataclass
class Staged:
    """A fully written, not yet verified temp file holding a copy of ``source``."""

    source: Path
    temp: Path
    fd: int
    sha256: str
    size: int
    mtime_ns: int
    check: str = ""  # BLAKE3 of the source, what the read-back must match

    def discard(self) -> None:
        """Remove the temp file (idempotent)."""
        self.temp.unlink(missing_ok=True)
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _locked_temp(folder: Path) -> tuple[int, Path]:
    """A new temp file in ``folder``, exclusively flock-ed by this process."""
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:  # a cleaner may have removed it between mkstemp and flock: then take another
            if os.stat(name).st_ino == os.fstat(fd).st_ino:
                return fd, Path(name)
        except FileNotFoundError:
            pass
        os.close(fd)


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        written = os.write(fd, data)
        data = data[written:]


def source_error(exc: OSError, source: Path) -> CopyError:
    """The error to raise for ``exc`` met while reading ``source`` (a pulled card: SourceGone)."""
    if exc.errno in DEVICE_GONE:
        return SourceGone(exc.errno, f"{source.name}: the card stopped answering ({exc.strerror})")
    if isinstance(exc, FileNotFoundError):
        return SourceChanged(exc.errno, f"{source.name} vanished while it was being read")
    return CopyError(exc.errno, f"{source.name}: cannot read ({exc.strerror})")


def _dest_error(exc: OSError, folder: Path) -> CopyError:
    if exc.errno in DISK_FULL:
        return DestinationFull(exc.errno, f"the buffer at {folder} is full")
    return CopyError(exc.errno, f"cannot write to {folder}: {exc.strerror}")


def hash_file(path: Path, abort: threading.Event | None = None) -> str:
    """sha256 of a source file (read-only), checking ``abort`` between chunks."""
    digest = hashlib.sha256()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    try:
        with open(path, "rb", buffering=0) as handle:
            while n := handle.readinto(buf):
                if abort is not None and abort.is_set():
                    raise Aborted(str(path))
                digest.update(view[:n])
    except OSError as exc:
        raise source_error(exc, path) from exc
    return digest.hexdigest()


def stage(source: Path, folder: Path, on_bytes: Callable[[int], None] = lambda n: None,
          abort: threading.Event | None = None) -> Staged:
    """Read ``source`` once into a locked temp file in ``folder``, hashing what was read."""
    try:
        before = os.stat(source)
        src = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise source_error(exc, source) from exc
    try:
        _advise(src, os.POSIX_FADV_SEQUENTIAL)
        try:
            fd, temp = _locked_temp(folder)
        except OSError as exc:
            raise _dest_error(exc, folder) from exc
        staged = Staged(source, temp, fd, "", 0, before.st_mtime_ns)
        try:
            digest, check = hashlib.sha256(), blake3()
            buf = bytearray(CHUNK)
            view = memoryview(buf)
            sent = 0  # bytes handed to the disk's writeback so far
            while True:
                if abort is not None and abort.is_set():
                    raise Aborted(str(source))
                try:
                    n = os.readv(src, [buf])
                except OSError as exc:
                    raise source_error(exc, source) from exc
                if not n:
                    break
                digest.update(view[:n])
                check.update(view[:n])
                try:
                    _write_all(fd, view[:n])
                except OSError as exc:
                    raise _dest_error(exc, folder) from exc
                staged.size += n
                if staged.size - sent >= WRITEBACK_STEP:
                    start_writeback(fd, sent, staged.size - sent)
                    sent = staged.size
                on_bytes(n)
            try:
                after = os.stat(source)
            except OSError as exc:
                raise source_error(exc, source) from exc
            if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or (
                staged.size != before.st_size
            ):
                raise SourceChanged(errno.EAGAIN, f"{source.name} changed while it was being read")
            staged.sha256, staged.check = digest.hexdigest(), check.hexdigest()
            # The card's pages are not needed again: keep the cache for the buffer.
            _advise(src, os.POSIX_FADV_DONTNEED)
            return staged
        except BaseException:
            staged.discard()
            raise
    finally:
        with contextlib.suppress(OSError):  # a dead FUSE driver fails even close() (ENOTCONN)
            os.close(src)


# (SHA-256, BLAKE3, size) of what was written to a received file, hashed as it arrived
Hashes = tuple[str, str, int]
HASHER = ThreadPoolExecutor(1, thread_name_prefix="received-hash")  # pieces of every upload, in order
HASH_BACKLOG = 16  # pieces (1 MB each from the FTP server) waiting to be hashed, at most


class HashingWriter:
    """A file being received (from a camera over FTP) that hashes what is written to it, so its
    import needs no read of its own; on close it is on the disk and its :data:`Hashes` go into
    ``into[name]``.

    The hashing runs on ``HASHER``'s one thread (hashlib and blake3 release the GIL), beside the
    FTP server's loop that receives and writes: a frame arrives at the speed of one of them, not
    of both in turn. At most ``HASH_BACKLOG`` pieces wait; close() waits for the last.
    """

    def __init__(self, raw: BinaryIO, into: dict[str, Hashes]) -> None:
        self.raw, self.into = raw, into
        self.sha, self.check, self.size = hashlib.sha256(), blake3(), 0
        self.pending: collections.deque[Future[None]] = collections.deque()

    def _hash(self, data: bytes) -> None:
        self.sha.update(data)
        self.check.update(data)

    def write(self, data: bytes) -> int:
        written = self.raw.write(data)
        self.size += len(data)
        self.pending.append(HASHER.submit(self._hash, data))
        while len(self.pending) > HASH_BACKLOG or (self.pending and self.pending[0].done()):
            self.pending.popleft().result()
        return written

    def close(self) -> None:
        """Flush and fsync, then close: pyftpdlib answers ``226`` (the camera may then delete the
        frame) only after this returns, so a frame it was told is received survives a power cut."""
        if not self.raw.closed:
            try:
                self.raw.flush()
                os.fsync(self.raw.fileno())
            finally:
                self.raw.close()
            while self.pending:
                self.pending.popleft().result()
            self.into[self.raw.name] = (self.sha.hexdigest(), self.check.hexdigest(), self.size)

    def __getattr__(self, name: str) -> Any:  # name, closed, fileno...: the file's own
        return getattr(self.raw, name)


def adopt(source: Path, folder: Path, known: Hashes | None = None) -> Staged | None:
    """Stage a file that is already the appliance's (received from a camera, on the buffer's
    filesystem) without copying it: hard-linked under a locked temp name in ``folder`` and hashed
    in one read, or not read at all when its hashes were ``known`` as it was received (and its
    size still matches); :func:`commit` then fsyncs, reads it back against the BLAKE3 and renames
    it as it does a copy. None when it cannot be linked there (another filesystem): then it is
    copied."""
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
    try:
        before = os.stat(source)
        os.link(source, temp, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            return None
        raise source_error(exc, source) from exc
    fd = os.open(temp, os.O_RDONLY | os.O_NOFOLLOW)
    fcntl.flock(fd, fcntl.LOCK_EX)
    staged = Staged(source, temp, fd, "", 0, before.st_mtime_ns)
    if known is not None and known[2] == before.st_size:
        staged.sha256, staged.check, staged.size = known
        return staged
    try:
        digest, check = hashlib.sha256(), blake3()
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while n := os.preadv(fd, [buf], staged.size):
            digest.update(view[:n])
            check.update(view[:n])
            staged.size += n
        staged.sha256, staged.check = digest.hexdigest(), check.hexdigest()
        return staged
    except BaseException:
        staged.discard()
        raise


def _advise(fd: int, advice: int) -> None:
    with contextlib.suppress(OSError):
        os.posix_fadvise(fd, 0, 0, advice)


def commit(staged: Staged, dest: Path, from_disk: bool = False) -> None:
    """fsync, read back (``from_disk``: past the page cache), compare with the source (BLAKE3),
    rename to ``dest``, fsync its folder. The copy's pages stay cached for whoever reads it next
    (see drop_cached)."""
    try:
        try:
            os.fsync(staged.fd)
        except OSError as exc:
            raise _dest_error(exc, staged.temp.parent) from exc
        if from_disk:  # drop the written pages so the check reads the disk, not the cache
            os.posix_fadvise(staged.fd, 0, 0, os.POSIX_FADV_DONTNEED)
        digest = blake3()
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        offset = 0
        while n := os.preadv(staged.fd, [buf], offset):
            digest.update(view[:n])
            offset += n
        if offset != staged.size or digest.hexdigest() != staged.check:
            raise VerificationFailed(
                errno.EIO, f"{staged.source.name}: the written copy does not match the card"
            )
        os.fchmod(staged.fd, 0o644)
        created = not dest.parent.exists()
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.temp, dest)
        fsync_dir(dest.parent)
        if created:
            fsync_dir(dest.parent.parent)
    finally:
        staged.discard()


def drop_cached(path: Path) -> None:
    """Drop a copy's pages from the page cache once nothing will read it soon (the buffer's files
    would otherwise push out pages the admin and the publisher use)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            _advise(fd, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def copy_verified(source: Path, dest: Path, temp_folder: Path,
                  on_bytes: Callable[[int], None] = lambda n: None,
                  abort: threading.Event | None = None, from_disk: bool = False) -> str:
    """Stage (in ``temp_folder``, on dest's filesystem) and commit in one go; returns the sha256."""
    staged = stage(source, temp_folder, on_bytes, abort)
    commit(staged, dest, from_disk)
    return staged.sha256


def clean_stale_temps(folder: Path, atomic_older_than_s: float = 3600) -> int:
    """Remove temp files left by a crashed copy; copies in progress (locked) are left alone."""
    removed = 0
    if not folder.is_dir():
        return 0
    for leftover in folder.glob(f"{TEMP_PREFIX}*"):
        try:
            fd = os.open(leftover, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # unlink while holding the lock: a writer that raced us sees its name gone and retries
            leftover.unlink(missing_ok=True)
            removed += 1
        except BlockingIOError:
            continue  # a live process is still writing it
        finally:
            os.close(fd)
    # fsutil.atomic_file temp files carry no lock: only remove clearly abandoned ones
    return removed + clean_temp_files(folder, atomic_older_than_s)
