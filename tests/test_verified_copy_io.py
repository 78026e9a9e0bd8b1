"""What a verified copy asks of the disk and the page cache, observed through the kernel's own
counters: the pages a file has cached, dirty or under writeback (``cachestat``) and the bytes this
process read from the storage layer (``/proc/self/io``). Real files on the test machine's disk."""

from __future__ import annotations

import ctypes
import io
import os
from pathlib import Path

import pytest
from helpers import make_config, sha256
from PIL import Image

from appliance.importer import Importer
from appliance.store import Store
from appliance.verified_copy import commit, copy_verified, drop_cached, stage

PAGE = os.sysconf("SC_PAGE_SIZE")
SYS_CACHESTAT = 451  # the same number on x86-64 and arm64 (Linux >= 6.5)


class _Range(ctypes.Structure):
    _fields_ = [("off", ctypes.c_uint64), ("len", ctypes.c_uint64)]


class CacheStat(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in (
        "nr_cache", "nr_dirty", "nr_writeback", "nr_evicted", "nr_recently_evicted")]


def page_cache(path: Path) -> CacheStat:
    """The page-cache state of a whole file (skips the test where cachestat does not exist)."""
    libc = ctypes.CDLL(None, use_errno=True)
    stat = CacheStat()
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.syscall(SYS_CACHESTAT, fd, ctypes.byref(_Range(0, 0)), ctypes.byref(stat), 0):
            pytest.skip(f"no cachestat here: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)
    return stat


def disk_reads() -> int:
    """Bytes this process has read from the storage layer so far (not from the page cache)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("read_bytes:"):
            return int(line.split()[1])
    raise AssertionError("no read_bytes in /proc/self/io")


def uncached(path: Path) -> Path:
    """``path`` written to the disk and dropped from the cache; skips where that cannot be seen
    (e.g. tmp_path on a tmpfs, which has no disk to read from)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    drop_cached(path)
    before = disk_reads()
    path.read_bytes()
    if disk_reads() - before < path.stat().st_size // 2:
        pytest.skip("reads here do not reach a disk (tmpfs?)")
    drop_cached(path)
    return path


def noise_file(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))
    return path


def test_stage_sends_each_mib_to_the_disk_while_it_copies(tmp_path: Path) -> None:
    source = uncached(noise_file(tmp_path / "card" / "IMG_0001.JPG", 8 << 20))
    staged = stage(source, tmp_path / "buffer")
    try:
        cache = page_cache(staged.temp)
        assert cache.nr_cache == (8 << 20) // PAGE  # all still cached, for the read-back
        # At most the last MiB is left dirty; without the early writeback all 2048 pages would
        # wait for commit's fsync.
        assert cache.nr_dirty <= (1 << 20) // PAGE
    finally:
        staged.discard()


@pytest.mark.parametrize("from_disk", [False, True])
def test_commit_reads_back_the_cache_or_with_from_disk_the_disk(tmp_path: Path,
                                                                from_disk: bool) -> None:
    size = 8 << 20
    source = noise_file(tmp_path / "card" / "IMG_0001.JPG", size)
    staged = stage(source, tmp_path / "buffer")
    uncached(source)  # only to learn whether this machine's reads reach a disk
    dest = tmp_path / "buffer" / "ab" / "copy.jpg"
    before = disk_reads()
    commit(staged, dest, from_disk=from_disk)
    read = disk_reads() - before
    if from_disk:
        assert read >= size  # every byte came back from the disk
    else:
        assert read < size // 8  # the pages fsync just wrote
    assert sha256(dest) == sha256(source)
    # Either way the copy is left cached for whoever reads it next (the thumbnail) ...
    assert page_cache(dest).nr_cache == size // PAGE
    drop_cached(dest)  # ... which drops it after
    assert page_cache(dest).nr_cache == 0


def test_drop_cached_ignores_a_missing_file(tmp_path: Path) -> None:
    drop_cached(tmp_path / "gone.jpg")  # a copy removed meanwhile: nothing to drop, no error
    copy = copy_verified(noise_file(tmp_path / "a.jpg", 1 << 20), tmp_path / "b" / "b.jpg",
                         tmp_path / "b")
    assert copy == sha256(tmp_path / "a.jpg")


def _noise_jpeg(path: Path, seed: int) -> Path:
    image = Image.merge("RGB", [Image.effect_noise((1600, 1200), 40 + seed + band)
                                for band in range(3)])
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=95)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return path


@pytest.mark.parametrize("from_disk", [False, True])
def test_an_import_reads_each_photo_from_the_disk_once_and_leaves_nothing_cached(
        tmp_path: Path, from_disk: bool) -> None:
    """The card is read once; the copy's verification and thumbnail read the page cache (with
    verify_from_disk the verification reads the disk: twice the reads); afterwards no copy
    is left in the cache."""
    card = tmp_path / "card"
    photos = [_noise_jpeg(card / "DCIM" / "100CANON" / f"IMG_{i:04d}.JPG", i) for i in range(4)]
    total = sum(p.stat().st_size for p in photos)
    config = make_config(tmp_path, f"[importer]\nverify_from_disk = {str(from_disk).lower()}\n")
    importer = Importer(config, Store(config.db_path))
    for photo in photos:
        uncached(photo)
    before = disk_reads()
    report = importer.import_tree(card)
    read = disk_reads() - before
    assert len(report.imported) == 4 and not report.errors
    low, high = (2 * total, 2.3 * total) if from_disk else (total, 1.3 * total)
    assert low <= read <= high
    for photo in photos:
        copy = importer.buffer_path(sha256(photo))
        assert page_cache(copy).nr_cache == 0  # dropped once its thumbnail was made
        assert importer.thumb_path(sha256(photo)).is_file()
        assert copy.read_bytes() == photo.read_bytes()
