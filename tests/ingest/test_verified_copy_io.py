"""What a verified copy asks of the disk and the page cache, observed through the kernel's own
counters: the pages a file has cached, dirty or under writeback (``cachestat``) and the bytes this
process read from the storage layer (``/proc/self/io``). Real files on the test machine's disk."""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from support.config import local_config
from support.files import sha256
from support.images import save_jpeg

from appliance.ingest import import_run
from appliance.ingest.import_types import ImportReport
from appliance.ingest.importer import Importer
from appliance.ingest.verified_copy import commit, drop_cached, stage
from appliance.store import Store

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
    try:
        lines = Path("/proc/self/io").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        if line.startswith("read_bytes:"):
            return int(line.split()[1])
    pytest.skip("no I/O accounting here (/proc/self/io)")


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


@pytest.fixture(autouse=True)
def _counters_work(tmp_path: Path) -> None:
    """Skip where the counters would prove nothing: reads of tmp_path that never reach a disk
    (a tmpfs), or a page cache that cachestat cannot see (overlayfs reports none)."""
    probe = uncached(noise_file(tmp_path / "probe", 1 << 20))
    probe.read_bytes()
    if page_cache(probe).nr_cache == 0:
        pytest.skip("the page cache of tmp_path is not visible here (overlayfs?)")
    probe.unlink()


def test_stage_sends_each_mib_to_the_disk_while_it_copies(tmp_path: Path) -> None:
    source = uncached(noise_file(tmp_path / "card" / "IMG_0001.JPG", 8 << 20))
    staged = stage(source, tmp_path / "buffer")
    try:
        cache = page_cache(staged.temp)
        assert cache.nr_cache >= 0.9 * (8 << 20) // PAGE  # still cached, for the read-back
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
    assert page_cache(dest).nr_cache >= 0.9 * size // PAGE
    drop_cached(dest)  # ... which drops it after
    assert page_cache(dest).nr_cache == 0


def test_drop_cached_of_a_file_removed_meanwhile_is_no_error(tmp_path: Path) -> None:
    drop_cached(tmp_path / "gone.jpg")


def card_photos(card: Path, count: int) -> list[Path]:
    """``count`` distinct noise JPEGs (~2 MB each) in ``card``/DCIM/100CANON."""
    return [save_jpeg(card / "DCIM" / "100CANON" / f"IMG_{i:04d}.JPG", Image.merge(
        "RGB", [Image.effect_noise((1600, 1200), 40 + i + band) for band in range(3)]))
        for i in range(count)]


def import_reading(importer: Importer, card: Path) -> tuple[ImportReport, int]:
    """Import ``card``; the report and the bytes read from the disk meanwhile."""
    before = disk_reads()
    report = importer.import_tree(card)
    return report, disk_reads() - before


@pytest.fixture
def other_fs(tmp_path: Path) -> Iterator[Path]:
    """A folder on another filesystem than tmp_path, whose reads never reach a disk (a tmpfs):
    a stand-in for a card."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no tmpfs at /dev/shm apart from tmp_path")
    folder = Path(tempfile.mkdtemp(prefix="card-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# (importer.verify_from, where the source is) -> bytes read from the disk, in dataset sizes
READS = {
    ("auto", "buffer's fs"): (1, 1.3),  # the source once; check and thumbnail: the cache
    ("disk", "buffer's fs"): (2, 2.3),  # the source, and every copy read back from the disk
    ("auto", "another fs"): (1, 1.3),  # a card (tmpfs: no disk reads): read back from the disk
    ("cache", "another fs"): (0, 0.3),  # nothing at all
}


@pytest.mark.parametrize(("verify_from", "where"), list(READS))
def test_what_an_import_reads_from_the_disk_and_leaves_cached(
        tmp_path: Path, other_fs: Path, verify_from: str, where: str,
        caplog: pytest.LogCaptureFixture) -> None:
    """The source is read once; a copy's check reads the disk or the cache as verify_from says
    (auto: the disk for a source on another filesystem); its thumbnail reads the cache; after
    the import no copy is left in the cache."""
    card = (other_fs if where == "another fs" else tmp_path) / "card"
    photos = card_photos(card, 4)
    total = sum(p.stat().st_size for p in photos)
    config = local_config(tmp_path, f"[importer]\nverify_from = \"{verify_from}\"\n")
    importer = Importer(config, Store(config.db_path))
    for photo in photos:
        if where != "another fs":
            uncached(photo)
    report, read = import_reading(importer, card)
    assert len(report.imported) == 4 and not report.errors
    low, high = READS[verify_from, where]
    assert low * total <= read <= high * total
    for photo in photos:
        copy = importer.buffer_path(sha256(photo))
        assert page_cache(copy).nr_cache == 0  # dropped once its thumbnail was made
        assert importer.thumb_path(sha256(photo)).is_file()
        assert copy.read_bytes() == photo.read_bytes()
    assert "still counted as cached" not in caplog.text  # the budget is given back in full


def test_auto_compares_the_source_with_the_copys_filesystem(tmp_path: Path,
                                                            other_fs: Path) -> None:
    """A card on the archive's filesystem is still another filesystem than the buffer's: its
    JPEGs are read back from the buffer's disk."""
    card = other_fs / "card"
    total = sum(p.stat().st_size for p in card_photos(card, 3))
    config = local_config(tmp_path, f'archive = "{other_fs / "archive"}"\n')  # in [paths]
    report, read = import_reading(Importer(config, Store(config.db_path)), card)
    assert len(report.imported) == 3 and not report.errors
    assert total <= read <= 1.3 * total  # (through the cache, nothing would come from the disk)


def test_past_the_cache_budget_thumbnails_read_the_disk(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A thumbnail pool far behind the copy must not hold a whole card in memory: past the
    budget a copy is dropped after its check, and its thumbnail reads it from the disk."""
    monkeypatch.setattr(import_run, "THUMB_CACHE_BYTES", 0)
    card = tmp_path / "card"
    photos = card_photos(card, 3)
    total = sum(p.stat().st_size for p in photos)
    config = local_config(tmp_path)
    importer = Importer(config, Store(config.db_path))
    for photo in photos:
        uncached(photo)
    report, read = import_reading(importer, card)
    assert len(report.imported) == 3 and not report.errors
    assert 2 * total <= read <= 2.3 * total  # the source, then each copy for its thumbnail
    for photo in photos:
        assert page_cache(importer.buffer_path(sha256(photo))).nr_cache == 0


def test_a_received_file_is_adopted_not_copied(tmp_path):
    """A camera's frame received into state/ becomes the buffer's copy by a link: one write, the
    same checks (hash, fsync, read back) and the same atomic rename."""
    import hashlib

    from appliance.ingest.verified_copy import adopt, commit

    received = tmp_path / "received" / "IMG_0001.JPG"
    received.parent.mkdir()
    received.write_bytes(os.urandom(3_000_000))
    buffer = tmp_path / "buffer"
    staged = adopt(received, buffer)
    assert staged is not None and staged.sha256 == hashlib.sha256(received.read_bytes()).hexdigest()
    assert os.stat(staged.temp).st_ino == os.stat(received).st_ino  # no copy was written
    dest = buffer / staged.sha256[:2] / f"{staged.sha256}.jpg"
    commit(staged, dest)
    received.unlink()  # what the received-file importer does once the buffer holds it
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == staged.sha256
    assert os.stat(dest).st_nlink == 1 and not list(buffer.glob(".*"))


def test_a_file_on_another_filesystem_is_not_adopted(tmp_path):
    from appliance.ingest.verified_copy import adopt

    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second filesystem to try")
    with tempfile.NamedTemporaryFile(dir=shm) as other:
        other.write(b"x" * 1000)
        other.flush()
        assert adopt(Path(other.name), tmp_path / "buffer") is None  # (then it is copied)
    assert not list((tmp_path / "buffer").iterdir())


def test_a_file_hashed_as_it_arrived_is_adopted_without_a_read_and_checked_on_commit(tmp_path):
    """FTP hashes an upload as it is written (HashingWriter): its import trusts those hashes for
    identity and reads it back only to check it against them (a mismatch is refused)."""
    import hashlib

    import pytest

    from appliance.ingest.verified_copy import HashingWriter, VerificationFailed, adopt, commit

    data = os.urandom(2_000_000)
    hashes: dict = {}
    received = tmp_path / "IMG_0001.JPG"
    with open(received, "wb") as raw:
        writer = HashingWriter(raw, hashes)
        for i in range(0, len(data), 65536):  # as the data channel writes it
            writer.write(data[i:i + 65536])
        writer.close()
    known = hashes[str(received)]
    assert known == (hashlib.sha256(data).hexdigest(), known[1], len(data))
    staged = adopt(received, tmp_path / "buffer", known)
    commit(staged, tmp_path / "buffer" / "ok.jpg")
    assert (tmp_path / "buffer" / "ok.jpg").read_bytes() == data

    other = tmp_path / "IMG_0002.JPG"
    other.write_bytes(data[:-1] + b"x")  # not what was received (a disk that changed it)
    staged = adopt(other, tmp_path / "buffer", known)
    with pytest.raises(VerificationFailed):
        commit(staged, tmp_path / "buffer" / "bad.jpg")
    assert not (tmp_path / "buffer" / "bad.jpg").exists() and not list((tmp_path / "buffer").glob(".*"))
