"""The importer, beyond what test_ingest*.py covers: odd file names on a card-like folder, the source
left byte-for-byte and mtime-for-mtime alone (folders too), every EXIF orientation, the thumbnail size
from the config, start-up temp cleanup, :func:`copy_verified` on its own and the hot-folder watcher's
settle rules on a controlled clock. Real camera JPEGs, real SQLite store, nothing patched."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from blake3 import blake3
from PIL import Image, ImageOps
from support.config import local_config
from support.files import sha256, snapshot
from support.images import mean_diff
from support.samples import sample

from appliance.fsutil import TEMP_PREFIX as ATOMIC_PREFIX
from appliance.ingest.hotfolder import FolderWatcher
from appliance.ingest.importer import Importer
from appliance.ingest.verified_copy import TEMP_PREFIX as INGEST_PREFIX
from appliance.ingest.verified_copy import (
    SourceChanged,
    VerificationFailed,
    commit,
    copy_verified,
    stage,
)
from appliance.store import Store

# Real JPEGs placed on the fake card, by destination name (all different contents).
CARD_PHOTOS = {
    "DCIM/100CANON/IMG_0001.JPG": "orientation/portrait_6.jpg",
    "DCIM/100CANON/IMG_0002.JPG": "orientation/landscape_8.jpg",
    "DCIM/100CANON/IMG_0003.JPEG": "exif-org/canon-ixus.jpg",
    "DCIM/101NIKON/DSCN0010.jpg": "gps/DSCN0010.jpg",
    "DCIM/101NIKON/my photo 1.jpg": "exif-org/nikon-e950.jpg",
    "DCIM/101NIKON/café ü 🎉.jpg": "exif-org/fujifilm-dx10.jpg",
    "DCIM/101NIKON/shot#2.jpg": "exif-org/sony-d700.jpg",
}
# What import_tree must skip on that card, and why (relative path -> reason).
CARD_SKIPS = {
    "DCIM/100CANON/._IMG_0001.JPG": "macOS metadata file (._*)",
    "DCIM/100CANON/.IMG_0004.JPG": "hidden file",
    ".DS_Store": "system file",
    ".Trashes": "hidden or system folder",
    "DCIM/.thumbnails": "hidden or system folder",
    "System Volume Information": "hidden or system folder",
    "DCIM/100CANON/EMPTY.JPG": "empty file (0 bytes)",
    "DCIM/100CANON/TRUNC.JPG": "corrupt or truncated JPEG",
    "DCIM/100CANON/NOTES.txt": "not a photo (.txt)",
    "DCIM/100CANON/README.jpg": "not a JPEG (content does not start with a JPEG marker)",
}


@pytest.fixture
def env(tmp_path: Path):
    config = local_config(tmp_path)
    store = Store(config.db_path)
    importer = Importer(config, store)
    yield config, store, importer
    store.close()


def _put(dest: Path, source: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    return dest


def _age(path: Path, mtime: float) -> Path:
    os.utime(path, (mtime, mtime))
    return path


def build_card(root: Path) -> Path:
    """A folder shaped like a camera card, with the junk real cards carry."""
    for dest, src in CARD_PHOTOS.items():
        _put(root / dest, sample(src))
    dcim = root / "DCIM" / "100CANON"
    (dcim / "._IMG_0001.JPG").write_bytes(b"\x00\x05\x16\x07AppleDouble")
    _put(dcim / ".IMG_0004.JPG", sample("gps/DSCN0040.jpg"))
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    _put(root / ".Trashes" / "501" / "IMG_9999.JPG", sample("gps/DSCN0012.jpg"))
    _put(root / "DCIM" / ".thumbnails" / "IMG_0001.JPG", sample("gps/DSCN0027.jpg"))  # Android
    svi = root / "System Volume Information"
    svi.mkdir()
    (svi / "IndexerVolumeGuid").write_text("{guid}")
    _put(svi / "IMG_8888.JPG", sample("gps/DSCN0021.jpg"))
    (dcim / "EMPTY.JPG").write_bytes(b"")
    whole = sample("gps/DSCN0025.jpg").read_bytes()
    (dcim / "TRUNC.JPG").write_bytes(whole[: len(whole) // 2])
    (dcim / "NOTES.txt").write_text("shot list\n")
    (dcim / "README.jpg").write_text("this is text, not a JPEG\n")
    # a card written a while ago: any write by the importer would move these times
    for path in root.rglob("*"):
        _age(path, 1_600_000_000)
    _age(root, 1_600_000_000)
    return root


def _temp_files(config) -> list[Path]:  # noqa: ANN001
    found = []
    for name in ("buffer", "archive", "state"):
        found += [p for p in config.folder(name).rglob("*")
                  if p.name.startswith((INGEST_PREFIX, ATOMIC_PREFIX))]
    return found


def test_import_tree_of_a_card_with_odd_names_leaves_the_card_untouched(tmp_path: Path,
                                                                        env) -> None:
    config, store, importer = env
    card = build_card(tmp_path / "card")
    before = snapshot(card)

    report = importer.import_tree(card)
    summary = report.summary()

    assert (summary["state"], summary["errors"], summary["duplicates"]) == ("done", {}, 0)
    assert sorted(Path(p).relative_to(card).as_posix() for p in report.imported) == sorted(
        CARD_PHOTOS)
    skipped = {Path(p).relative_to(card).as_posix(): reason
               for reason, paths in report.skipped.items() for p in paths}
    assert skipped == CARD_SKIPS

    # every buffered file is a byte-exact copy of its source, recorded under its own odd name
    photos = store.rows("SELECT * FROM photos ORDER BY id")
    assert sorted(Path(p["source_path"]).relative_to(card).as_posix() for p in photos) == sorted(
        CARD_PHOTOS)
    buffer = config.folder("buffer")
    for photo in photos:
        source = Path(photo["source_path"])
        copy = buffer / photo["buffer_path"]
        assert sha256(copy) == sha256(source) == photo["sha256"]
        assert photo["size"] == source.stat().st_size
        assert photo["original_name"] == source.name
    # the truncated and fake JPEGs left nothing in the buffer, and no temp file is left anywhere
    assert sorted(p.name for p in buffer.rglob("*") if p.is_file()) == sorted(
        f"{p['sha256']}.jpg" for p in photos)
    assert _temp_files(config) == []

    # the card was not touched: same files, bytes, sizes and mtimes, folders included
    assert snapshot(card) == before

    # the import was recorded with its counters
    row = store.row("SELECT * FROM imports WHERE id = ?", (report.import_id,))
    assert row["state"] == "done" and row["imported"] == 7 and row["duplicates"] == 0
    # candidates: the JPEG-named files outside hidden folders (7 photos + empty, truncated, fake)
    candidates = [card / name for name in CARD_PHOTOS] + [
        card / "DCIM" / "100CANON" / name for name in ("EMPTY.JPG", "TRUNC.JPG", "README.jpg")]
    assert row["files_total"] == row["files_done"] == len(candidates) == 10
    assert row["skipped"] == len(CARD_SKIPS)
    assert row["bytes_done"] == row["bytes_total"] == sum(p.stat().st_size for p in candidates)
    assert row["current_file"] is None


def test_a_file_name_that_is_not_utf8_does_not_stop_the_import(tmp_path: Path, env) -> None:
    _, store, importer = env
    card = tmp_path / "card"
    good = [_put(card / "a.jpg", sample("gps/DSCN0010.jpg")),
            _put(card / "z.jpg", sample("gps/DSCN0021.jpg"))]
    latin1 = Path(os.fsdecode(os.path.join(os.fsencode(card), b"caf\xe9.jpg")))
    _put(latin1, sample("gps/DSCN0012.jpg"))
    report = importer.import_tree(card)
    assert {str(p) for p in good} <= set(report.imported)
    assert store.scalar("SELECT COUNT(*) FROM photos") >= 2


def test_the_same_photo_under_other_names_is_one_photo(tmp_path: Path, env) -> None:
    """Identity is the content: twice on one card (in flight together), then again elsewhere."""
    config, store, importer = env
    first = _put(tmp_path / "card" / "DCIM" / "100A" / "IMG_0001.JPG", sample("gps/DSCN0010.jpg"))
    again = _put(tmp_path / "card" / "DCIM" / "101B" / "copy of it.jpg", first)
    report = importer.import_tree(tmp_path / "card")
    assert (report.imported, report.duplicates) == ([str(first)], [str(again)])
    assert store.scalar("SELECT COUNT(*) FROM photos") == 1
    assert store.scalar("SELECT source_path FROM photos") == str(first)

    renamed = _put(tmp_path / "other" / "renamed.jpg", first)
    report = importer.import_tree(tmp_path / "other")
    assert (report.imported, report.duplicates) == ([], [str(renamed)])
    assert store.scalar("SELECT COUNT(*) FROM photos") == 1
    assert [p.name for p in config.folder("buffer").rglob("*.jpg")] == [f"{sha256(first)}.jpg"]
    assert _temp_files(config) == []


def test_metadata_of_a_real_camera_and_every_orientation(tmp_path: Path, env) -> None:
    config, store, importer = env
    card = tmp_path / "card"
    gps = _put(card / "DSCN0010.jpg", sample("gps/DSCN0010.jpg"))
    oriented = {(kind, n): _put(card / f"{kind}_{n}.jpg", sample(f"orientation/{kind}_{n}.jpg"))
                for kind in ("landscape", "portrait") for n in range(1, 9)}
    report = importer.import_tree(card)
    assert len(report.imported) == 1 + 16 and not report.skipped and not report.errors
    thumbs = config.folder("state") / "thumbs"

    # a real Nikon's own EXIF (not one written by Pillow)
    with Image.open(gps) as im:
        taken = im.getexif().get_ifd(0x8769)[0x9003]  # DateTimeOriginal "YYYY:MM:DD HH:MM:SS"
    row = store.photo_by_sha(sha256(gps))
    assert row["capture_time"] == taken[:10].replace(":", "-") + "T" + taken[11:19] + ".000"
    assert (row["camera_make"], row["camera_model"]) == ("NIKON", "COOLPIX P6000")
    assert (row["width"], row["height"], row["orientation"]) == (640, 480, 1)

    # all eight EXIF orientations: size as displayed, and a thumbnail that looks like the photo
    # as displayed (rotated and/or mirrored the right way), without an orientation tag of its own
    for (kind, n), path in oriented.items():
        row = store.photo_by_sha(sha256(path))
        assert row["orientation"] == n
        assert (row["width"], row["height"]) == ((600, 450) if kind == "landscape" else (450, 600))
        with Image.open(path) as im:
            upright = ImageOps.exif_transpose(im).convert("RGB")
            stored = im.convert("RGB")
        with Image.open(thumbs / row["thumb_path"]) as thumb:
            assert thumb.format == "JPEG"
            assert max(thumb.size) == config.importer.thumb_size == 400
            assert (thumb.width > thumb.height) == (kind == "landscape"), (kind, n)
            assert thumb.getexif().get(0x0112, 1) == 1
            shown = thumb.convert("RGB")
        # the upright view is by far the closest of the eight ways to turn the stored pixels
        # (not an exact match: the thumbnail is converted to sRGB and re-encoded)
        right = mean_diff(shown, upright.resize(shown.size))
        wrong = [mean_diff(shown, turned.resize(shown.size))
                 for turned in (stored, *(stored.transpose(t) for t in Image.Transpose))
                 if turned.size == upright.size and turned.tobytes() != upright.tobytes()]
        assert len(wrong) == 3, (kind, n)
        assert right < 20 and 2 * right < min(wrong), (kind, n, right, wrong)


def test_thumb_size_from_config(tmp_path: Path) -> None:
    config = local_config(tmp_path, "[importer]\nthumb_size = 128\n")
    assert config.importer.thumb_size == 128
    store = Store(config.db_path)
    try:
        _put(tmp_path / "card" / "a.jpg", sample("exif-org/fujifilm-dx10.jpg"))
        Importer(config, store).import_tree(tmp_path / "card")
        row = store.latest_photo()
        with Image.open(config.folder("state") / "thumbs" / row["thumb_path"]) as im:
            assert max(im.size) == 128
    finally:
        store.close()


def _leftovers(config) -> tuple[list[Path], list[Path]]:  # noqa: ANN001
    """Temp files a crash leaves (to be removed) and files that must survive a start-up."""
    config.ensure_folders()
    old = time.time() - 2 * 3600
    buffer, archive = config.folder("buffer"), config.folder("archive")
    crashed = [
        buffer / f"{INGEST_PREFIX}crash",  # a staged copy (unlocked: its process is gone)
        archive / f"{INGEST_PREFIX}crash",
        buffer / "ab" / f"{ATOMIC_PREFIX}old",  # an atomic write abandoned hours ago
    ]
    kept = [
        buffer / "ab" / "ab12.jpg",  # a real buffered file
        buffer / "ab" / f"{ATOMIC_PREFIX}fresh",  # may be another process's write in progress
    ]
    for path in crashed + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")
        _age(path, old)
    _age(kept[1], time.time())
    return crashed, kept


def test_importer_removes_leftover_temp_files_at_start_up(tmp_path: Path) -> None:
    config = local_config(tmp_path)
    crashed, kept = _leftovers(config)
    store = Store(config.db_path)
    try:
        Importer(config, store)
        assert [p for p in crashed if p.exists()] == []
        assert [p for p in kept if not p.exists()] == []
    finally:
        store.close()


def test_importer_removes_a_leftover_thumbnail_temp_file(tmp_path: Path) -> None:
    config = local_config(tmp_path)
    config.ensure_folders()
    leftover = config.folder("state") / "thumbs" / "ab" / f"{ATOMIC_PREFIX}crash"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"partial")
    _age(leftover, time.time() - 2 * 3600)
    store = Store(config.db_path)
    try:
        Importer(config, store)
        assert not leftover.exists()
    finally:
        store.close()


# -- copy_verified on its own ------------------------------------------------------------------


def _source(tmp_path: Path) -> Path:
    return _age(_put(tmp_path / "src" / "IMG.JPG", sample("exif-org/canon-ixus.jpg")),
                1_600_000_000)


def test_copy_verified_copies_exactly_and_never_writes_the_source(tmp_path: Path) -> None:
    source = _source(tmp_path)
    before = snapshot(source.parent)
    temp_folder = tmp_path / "buffer"
    dest = temp_folder / "ab" / "copy.jpg"
    seen: list[int] = []
    assert copy_verified(source, dest, temp_folder, seen.append) == sha256(source)
    assert dest.read_bytes() == source.read_bytes()
    assert sum(seen) == source.stat().st_size
    assert dest.stat().st_mode & 0o777 == 0o644
    assert sorted(p.relative_to(temp_folder).as_posix() for p in temp_folder.rglob("*")) == [
        "ab", "ab/copy.jpg"]  # no temp file left beside it
    assert snapshot(source.parent) == before


def test_stage_digests_the_source_for_its_identity_and_for_the_read_back(tmp_path: Path) -> None:
    """sha256 names the photo; BLAKE3 of the same bytes is what the read-back must match."""
    source = _source(tmp_path)
    staged = stage(source, tmp_path / "buffer")
    try:
        assert staged.sha256 == sha256(source)
        assert staged.check == blake3(source.read_bytes()).hexdigest() != staged.sha256
    finally:
        staged.discard()


@pytest.mark.parametrize("from_disk", [False, True])
def test_commit_refuses_a_copy_that_does_not_read_back_as_the_source(tmp_path: Path,
                                                                     from_disk: bool) -> None:
    """The read-back check: what was written must hash like what was read."""
    source = _source(tmp_path)
    temp_folder = tmp_path / "buffer"
    dest = temp_folder / "ab" / "copy.jpg"
    staged = stage(source, temp_folder)
    assert staged.temp.parent == temp_folder and staged.temp.name.startswith(INGEST_PREFIX)
    with open(staged.temp, "r+b") as handle:  # a bit flipped on the way to the disk
        handle.seek(staged.size // 2)
        byte = handle.read(1)
        handle.seek(staged.size // 2)
        handle.write(bytes([byte[0] ^ 0x01]))
    with pytest.raises(VerificationFailed):
        commit(staged, dest, from_disk)
    assert not dest.exists()
    assert list(temp_folder.iterdir()) == []  # the temp file is gone too


def _grow(source: Path) -> None:
    with open(source, "ab") as handle:  # the camera (or a user) appends, mid-copy
        handle.write(b"\xff")


def _touch(source: Path) -> None:  # rewritten in place: same bytes read, but the mtime moved
    st = source.stat()
    os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def _delete(source: Path) -> None:
    source.unlink()


@pytest.mark.parametrize("change", [_grow, _touch, _delete], ids=["grown", "touched", "deleted"])
def test_copy_verified_refuses_a_source_changed_during_the_copy(tmp_path: Path, change) -> None:  # noqa: ANN001
    source = _source(tmp_path)
    temp_folder = tmp_path / "buffer"
    dest = temp_folder / "ab" / "copy.jpg"
    changed: list[int] = []

    def on_bytes(_n: int) -> None:
        if not changed:
            changed.append(1)
            change(source)

    with pytest.raises(SourceChanged):
        copy_verified(source, dest, temp_folder, on_bytes)
    assert changed
    assert not dest.exists()
    assert list(temp_folder.iterdir()) == []  # no temp file, no destination folder


# -- the hot-folder watcher, on a controlled clock -----------------------------------------------


def test_watcher_imports_a_file_once_it_has_settled(tmp_path: Path, env) -> None:
    _, store, importer = env
    watch = tmp_path / "watch"
    watch.mkdir()
    watcher = FolderWatcher(importer, watch, settle_seconds=2)
    t0 = time.time()
    assert watcher.scan(now=t0) is None  # empty folder

    done = _age(_put(watch / "IMG_0001.JPG", sample("exif-org/canon-ixus.jpg")), t0 - 60)
    whole = sample("gps/DSCN0010.jpg").read_bytes()
    writing = watch / "IMG_0002.JPG"
    writing.write_bytes(whole[:20_000])
    _age(writing, t0 - 60)
    assert watcher.scan(now=t0) is None  # first sighting: not yet known to be stable
    assert watcher.scan(now=t0 + 1) is None  # unchanged for 1 s only
    assert store.scalar("SELECT COUNT(*) FROM photos") == 0

    with open(writing, "ab") as handle:  # the upload of IMG_0002 goes on
        handle.write(whole[20_000:])
    _age(writing, t0 + 1.5)
    report = watcher.scan(now=t0 + 2)
    assert report is not None and report.imported == [str(done)]
    assert watcher.scan(now=t0 + 3) is None  # IMG_0002 changed at the last scan: waits again
    report = watcher.scan(now=t0 + 4)
    assert report is not None and report.imported == [str(writing)]
    assert store.scalar("SELECT sha256 FROM photos WHERE original_name = 'IMG_0002.JPG'") == (
        sha256(writing))

    # unchanged across scans but modified "just now" (a server's clock ahead, a copy that keeps
    # the mtime of a file still open): waits until the mtime is settle_seconds old as well
    recent = _age(_put(watch / "IMG_0003.JPG", sample("gps/DSCN0012.jpg")), t0 + 20)
    assert watcher.scan(now=t0 + 10) is None
    assert watcher.scan(now=t0 + 15) is None
    report = watcher.scan(now=t0 + 22)
    assert report is not None and report.imported == [str(recent)]

    assert watcher.scan(now=t0 + 30) is None  # already imported: never again
    assert watcher.scan(now=t0 + 40) is None
    assert store.scalar("SELECT COUNT(*) FROM imports") == 3
    assert store.scalar("SELECT COUNT(*) FROM photos") == 3

    # the same name written again with another photo (tethering software reusing a name)
    _age(_put(done, sample("gps/DSCN0021.jpg")), t0 + 50)
    assert watcher.scan(now=t0 + 60) is None
    report = watcher.scan(now=t0 + 62)
    assert report is not None and report.imported == [str(done)]
    assert store.scalar("SELECT COUNT(*) FROM photos") == 4


def test_watcher_ignores_junk_empty_files_and_a_missing_folder(tmp_path: Path, env) -> None:
    _, store, importer = env
    t0 = time.time()
    assert FolderWatcher(importer, tmp_path / "missing").scan(now=t0) is None
    watch = tmp_path / "watch"
    watch.mkdir()
    (watch / ".DS_Store").write_bytes(b"junk")
    (watch / "._IMG_0001.JPG").write_bytes(b"\x00\x05\x16\x07AppleDouble")
    (watch / f"{INGEST_PREFIX}partial.jpg").write_bytes(b"junk")
    (watch / f"{ATOMIC_PREFIX}partial.jpg").write_bytes(b"junk")
    (watch / "notes.txt").write_text("x")
    placeholder = watch / "IMG_0001.JPG"  # FTP servers create the file before its bytes arrive
    placeholder.write_bytes(b"")
    for path in watch.iterdir():
        _age(path, t0 - 600)
    watcher = FolderWatcher(importer, watch, settle_seconds=2)
    for later in (0, 10, 100):
        assert watcher.scan(now=t0 + later) is None
    assert store.scalar("SELECT COUNT(*) FROM imports") == 0

    # the empty placeholder was not written off: once its bytes arrived and settled, it is taken
    _age(_put(placeholder, sample("exif-org/canon-ixus.jpg")), t0 + 100)
    assert watcher.scan(now=t0 + 110) is None
    report = watcher.scan(now=t0 + 112)
    assert report is not None and report.imported == [str(placeholder)]
    assert store.scalar("SELECT COUNT(*) FROM imports") == 1
