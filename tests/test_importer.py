"""The importer: real camera JPEGs from a card-like folder into the buffer, verified and atomic."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from helpers import make_config, sample, sha256, snapshot
from PIL import Image

from appliance.fsutil import TEMP_PREFIX
from appliance.importer import FolderWatcher, Importer, SourceChanged, copy_verified
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


@pytest.fixture
def env(tmp_path: Path):
    config = make_config(tmp_path)
    config.ensure_folders()
    store = Store(config.db_path)
    store.ensure_event("party", "Party")
    importer = Importer(config, store)
    yield config, store, importer
    store.close()


def _put(dest: Path, source: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    return dest


def build_card(root: Path) -> Path:
    """A folder shaped like a camera card, with the junk real cards carry."""
    for dest, src in CARD_PHOTOS.items():
        _put(root / dest, sample(src))
    dcim = root / "DCIM" / "100CANON"
    (dcim / "._IMG_0001.JPG").write_bytes(b"\x00\x05\x16\x07AppleDouble")
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    _put(root / ".Trashes" / "501" / "IMG_9999.JPG", sample("gps/DSCN0012.jpg"))
    svi = root / "System Volume Information"
    svi.mkdir()
    (svi / "IndexerVolumeGuid").write_text("{guid}")
    _put(svi / "IMG_8888.JPG", sample("gps/DSCN0021.jpg"))
    (dcim / "EMPTY.JPG").write_bytes(b"")
    whole = sample("gps/DSCN0025.jpg").read_bytes()
    (dcim / "TRUNC.JPG").write_bytes(whole[: len(whole) // 2])
    (dcim / "NOTES.txt").write_text("shot list\n")
    (dcim / "README.jpg").write_text("this is text, not a JPEG\n")
    return root


def _buffer_temp_files(config) -> list[Path]:
    found = []
    for folder in (config.folder("buffer"), config.folder("state")):
        found += [p for p in folder.rglob("*") if p.name.startswith(TEMP_PREFIX)]
    return found


def test_import_tree_of_a_real_card(tmp_path: Path, env) -> None:
    config, store, importer = env
    card = build_card(tmp_path / "card")
    before = snapshot(card)

    report = importer.import_tree(card)
    summary = report.summary()

    assert sorted(Path(p).relative_to(card).as_posix() for p in report.imported) == sorted(
        CARD_PHOTOS
    )
    assert summary["imported"] == 7
    assert summary["duplicates"] == 0
    assert summary["errors"] == {}
    skipped = summary["skipped"]
    assert skipped.pop("macOS metadata file") == 1
    assert skipped.pop("hidden file") == 1
    assert skipped.pop("hidden folder") == 2
    assert skipped.pop("empty file (0 bytes)") == 1
    assert skipped.pop("not a JPEG (.txt)") == 1
    unreadable = [r for r in skipped if r.startswith("unreadable JPEG")]
    assert len(unreadable) == 1 and "not a readable image" in unreadable[0]
    truncated = [r for r in skipped if "truncated" in r]
    assert len(truncated) == 1, skipped
    assert truncated[0].lower().count("truncated") <= 2 and "JPEG" in truncated[0], truncated[0]
    assert len(skipped) == 2, skipped  # nothing else was skipped
    skipped_files = {Path(p).name for files in report.skipped.values() for p in files}
    assert {"README.jpg", "TRUNC.JPG", "EMPTY.JPG", ".Trashes",
            "System Volume Information"} <= skipped_files

    # every buffered file is a byte-exact copy of its source
    photos = store.rows("SELECT * FROM photos ORDER BY id")
    assert len(photos) == 7
    buffer = config.folder("buffer")
    for photo in photos:
        source = Path(photo["source_path"])
        copy = buffer / photo["buffer_path"]
        assert copy.is_file()
        assert sha256(copy) == sha256(source) == photo["sha256"]
        assert photo["size"] == source.stat().st_size
        assert photo["original_name"] == source.name
    # the truncated and fake JPEGs left nothing in the buffer
    assert sorted(p.name for p in buffer.rglob("*.jpg")) == sorted(
        f"{p['sha256']}.jpg" for p in photos
    )
    assert _buffer_temp_files(config) == []

    # the card was not touched
    assert snapshot(card) == before

    # the import was recorded
    row = store.row("SELECT * FROM imports ORDER BY id DESC LIMIT 1")
    assert row["state"] == "done"
    assert row["imported"] == 7
    # candidates: the JPEG-named files (7 photos + empty, truncated, fake)
    assert row["files_total"] == row["files_done"] == 7 + 3
    assert row["skipped"] == 8
    assert row["bytes_done"] == row["bytes_total"] > 0


def test_reimport_counts_duplicates(tmp_path: Path, env) -> None:
    config, store, importer = env
    card = build_card(tmp_path / "card")
    importer.import_tree(card)
    again = importer.import_tree(card).summary()
    assert again["imported"] == 0
    assert again["duplicates"] == 7
    assert store.scalar("SELECT COUNT(*) FROM photos") == 7
    # the same photos under a different folder and name are still duplicates
    other = tmp_path / "other"
    _put(other / "DCIM" / "renamed.jpg", sample("gps/DSCN0010.jpg"))
    assert importer.import_tree(other).summary()["duplicates"] == 1


def test_two_cameras_same_file_name(tmp_path: Path, env) -> None:
    _, store, importer = env
    a = _put(tmp_path / "camA" / "DCIM" / "IMG_0001.JPG", sample("exif-org/canon-ixus.jpg"))
    b = _put(tmp_path / "camB" / "DCIM" / "IMG_0001.JPG", sample("exif-org/kodak-dc240.jpg"))
    assert importer.import_tree(tmp_path / "camA").summary()["imported"] == 1
    assert importer.import_tree(tmp_path / "camB").summary()["imported"] == 1
    photos = store.rows("SELECT * FROM photos ORDER BY id")
    assert [p["original_name"] for p in photos] == ["IMG_0001.JPG", "IMG_0001.JPG"]
    assert [p["sha256"] for p in photos] == [sha256(a), sha256(b)]
    assert photos[0]["buffer_path"] != photos[1]["buffer_path"]


def test_metadata_and_thumbnails(tmp_path: Path, env) -> None:
    config, store, importer = env
    card = tmp_path / "card"
    gps = _put(card / "DSCN0010.jpg", sample("gps/DSCN0010.jpg"))
    portrait = _put(card / "portrait.jpg", sample("orientation/portrait_6.jpg"))
    landscape = _put(card / "landscape.jpg", sample("orientation/landscape_5.jpg"))
    no_exif = _put(card / "plain.jpg", sample("exif-org/olympus-d320l.jpg"))
    importer.import_tree(card)

    def photo(path: Path) -> dict:
        return store.photo_by_sha(sha256(path))

    with Image.open(gps) as im:
        taken = im.getexif().get_ifd(0x8769)[0x9003]  # DateTimeOriginal "YYYY:MM:DD HH:MM:SS"
    expected = taken[:10].replace(":", "-") + "T" + taken[11:19]
    row = photo(gps)
    assert row["capture_time"].startswith(expected)
    assert row["camera_make"] == "NIKON"
    assert row["camera_model"] == "COOLPIX P6000"
    assert (row["width"], row["height"]) == (640, 480)
    assert photo(no_exif)["capture_time"] is None

    with Image.open(portrait) as im:
        assert im.width > im.height  # stored sideways, orientation 6
    row = photo(portrait)
    assert row["orientation"] == 6
    assert row["height"] > row["width"]
    assert (row["width"], row["height"]) == (450, 600)
    row = photo(landscape)
    assert row["orientation"] == 5
    assert row["width"] > row["height"]

    thumbs = config.folder("state") / "thumbs"
    for path in (gps, portrait, landscape, no_exif):
        row = photo(path)
        thumb = thumbs / row["thumb_path"]
        with Image.open(thumb) as im:
            assert im.format == "JPEG"
            assert max(im.size) <= config.importer.thumb_size == 400
            # thumbnails are upright, like the stored width/height
            assert (im.width > im.height) == (row["width"] > row["height"])


def test_thumb_size_from_config(tmp_path: Path) -> None:
    config = make_config(tmp_path, "[importer]\nthumb_size = 128\n")
    store = Store(config.db_path)
    try:
        _put(tmp_path / "card" / "a.jpg", sample("exif-org/fujifilm-dx10.jpg"))
        Importer(config, store).import_tree(tmp_path / "card")
        row = store.latest_photo()
        with Image.open(config.folder("state") / "thumbs" / row["thumb_path"]) as im:
            assert max(im.size) == 128
    finally:
        store.close()


def test_importer_removes_leftover_temp_files(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    leftovers = [
        config.folder("buffer") / "ab" / f"{TEMP_PREFIX}crash",
        config.folder("state") / "thumbs" / "ab" / f"{TEMP_PREFIX}crash",
    ]
    for leftover in leftovers:
        leftover.parent.mkdir(parents=True)
        leftover.write_bytes(b"partial")
    keep = config.folder("buffer") / "ab" / "ab12.jpg"
    keep.write_bytes(b"a real buffered file")
    store = Store(config.db_path)
    try:
        Importer(config, store)
        assert [p for p in leftovers if p.exists()] == []
        assert keep.exists()
    finally:
        store.close()


def test_copy_verified_refuses_a_wrong_hash(tmp_path: Path) -> None:
    source = _put(tmp_path / "src" / "IMG.JPG", sample("exif-org/canon-ixus.jpg"))
    dest = tmp_path / "buffer" / "ab" / "copy.jpg"
    seen: list[int] = []
    with pytest.raises(SourceChanged):
        copy_verified(source, dest, "0" * 64, seen.append)
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []  # no temp file left either
    # with the right hash the same call succeeds
    copy_verified(source, dest, sha256(source), seen.append)
    assert sha256(dest) == sha256(source)
    assert sum(seen) == 2 * source.stat().st_size


def test_copy_verified_detects_a_source_growing_during_the_copy(tmp_path: Path) -> None:
    source = _put(tmp_path / "src" / "IMG.JPG", sample("exif-org/canon-ixus.jpg"))
    expected = sha256(source)
    dest = tmp_path / "buffer" / "copy.jpg"

    grown: list[int] = []

    def grow(_n: int) -> None:
        if not grown:  # the camera (or a user) appends once, mid-copy
            grown.append(1)
            with open(source, "ab") as handle:
                handle.write(b"\xff")

    with pytest.raises(SourceChanged):
        copy_verified(source, dest, expected, grow)
    assert not dest.exists()
    assert [p for p in dest.parent.iterdir()] == []


def test_watcher_imports_only_stable_files(tmp_path: Path, env) -> None:
    _, store, importer = env
    watch = tmp_path / "watch"
    watch.mkdir()
    watcher = FolderWatcher(importer, watch)
    assert watcher.scan() is None  # empty folder
    _put(watch / "IMG_0001.JPG", sample("exif-org/canon-ixus.jpg"))
    assert watcher.scan() is None  # first sighting: not yet known to be stable
    assert store.scalar("SELECT COUNT(*) FROM photos") == 0
    report = watcher.scan()
    assert report is not None
    assert report.summary()["imported"] == 1
    assert store.scalar("SELECT COUNT(*) FROM photos") == 1
    assert watcher.scan() is None  # already done: not imported again
    assert store.scalar("SELECT COUNT(*) FROM imports") == 1


def test_watcher_waits_for_a_file_being_written(tmp_path: Path, env) -> None:
    _, store, importer = env
    watch = tmp_path / "watch"
    watch.mkdir()
    watcher = FolderWatcher(importer, watch)
    whole = sample("gps/DSCN0010.jpg").read_bytes()
    target = watch / "DSCN0010.JPG"
    target.write_bytes(whole[:20_000])
    assert watcher.scan() is None
    with open(target, "ab") as handle:  # the copy onto the card goes on
        handle.write(whole[20_000:80_000])
    assert watcher.scan() is None
    with open(target, "ab") as handle:
        handle.write(whole[80_000:])
    assert watcher.scan() is None
    assert store.scalar("SELECT COUNT(*) FROM photos") == 0
    report = watcher.scan()
    assert report is not None and report.summary()["imported"] == 1
    assert store.latest_photo()["sha256"] == sha256(target)


def test_watcher_ignores_junk_and_missing_folder(tmp_path: Path, env) -> None:
    _, store, importer = env
    assert FolderWatcher(importer, tmp_path / "missing").scan() is None
    watch = tmp_path / "watch"
    watch.mkdir()
    (watch / ".DS_Store").write_bytes(b"junk")
    (watch / f"{TEMP_PREFIX}partial.jpg").write_bytes(b"junk")
    (watch / "notes.txt").write_text("x")
    watcher = FolderWatcher(importer, watch)
    assert watcher.scan() is None
    assert watcher.scan() is None
    assert store.scalar("SELECT COUNT(*) FROM imports") == 0


def test_copy_verified_detects_a_source_rewritten_during_the_copy(tmp_path: Path) -> None:
    """Same bytes read, but the file was modified (mtime moved) while it was being copied."""
    source = _put(tmp_path / "src" / "IMG.JPG", sample("exif-org/canon-ixus.jpg"))
    expected = sha256(source)
    dest = tmp_path / "buffer" / "copy.jpg"
    st = source.stat()

    def touch(_n: int) -> None:
        os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))

    with pytest.raises(SourceChanged):
        copy_verified(source, dest, expected, touch)
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []
