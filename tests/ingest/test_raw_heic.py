"""RAW-only frames and HEIC photos through the real importer: a real SQLite store, real files from
tests/data/ (ExifTool's RAW stubs, pillow-heif's HEICs, one synthetic RW2 with a full-size preview),
rawpy and pillow-heif doing the decoding; nothing patched."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import rawpy
from PIL import Image, ImageOps
from support.buffer import assert_buffer_sound
from support.config import local_config
from support.files import sha256
from support.images import mean_diff, region_mean
from support.originals import (
    CORRUPT_HEIC,
    IPHONE_HEIC,
    PLAIN_HEIF,
    PREVIEW_SIZE,
    RAW_ONLY,
    RED_BLOCK,
    SMALL_PREVIEW,
    data,
    put,
    truncated,
)
from support.samples import sample

from appliance.imaging import pipeline
from appliance.ingest.importer import Importer
from appliance.ingest.originals import REASON_BAD_HEIF
from appliance.store import Store

DCIM = "DCIM/100PANA"


@pytest.fixture
def env(tmp_path: Path):
    config = local_config(tmp_path)
    store = Store(config.db_path)
    yield config, store, Importer(config, store)
    store.close()


def _photo(store: Store, name: str) -> dict:
    row = store.row("SELECT * FROM photos WHERE original_name = ?", (name,))
    assert row is not None, f"no photo for {name}"
    return row


def _original(store: Store, name: str) -> dict:
    row = store.row("SELECT * FROM raw_files WHERE original_name = ?", (name,))
    assert row is not None, f"{name} not archived"
    return row


def _buffer_image(config, photo: dict) -> Image.Image:
    with Image.open(config.folder("buffer") / photo["buffer_path"]) as image:
        image.load()
        return image


def test_raw_only_frame_becomes_its_preview(env, tmp_path):
    config, store, importer = env
    raw = put(tmp_path / "card" / DCIM / "P1000001.RW2", RAW_ONLY)
    summary = importer.import_tree(tmp_path / "card").summary()

    assert (summary["imported"], summary["raw_archived"], summary["raw_paired"]) == (1, 1, 0), summary
    assert summary["derived"] == {"raw-preview": 1} and not summary["notices"]
    photo = _photo(store, "P1000001.RW2")
    assert photo["derived_from"] == "raw-preview"
    assert (photo["width"], photo["height"], photo["orientation"]) == (1200, 1800, 6)  # as displayed
    assert (photo["camera_make"], photo["camera_model"]) == ("Panasonic", "DMC-LX3")
    assert photo["capture_time"] == "2008-08-06T15:21:56.000"
    original = _original(store, "P1000001.RW2")
    assert original["photo_id"] == photo["id"] and original["sha256"] == sha256(raw)
    assert_buffer_sound(config, store)

    # the buffer JPEG is the camera's preview, its pixels untouched (not re-encoded)
    with rawpy.imread(str(raw)) as r:
        preview = Image.open(io.BytesIO(r.extract_thumb().data))
        preview.load()
    buffered = _buffer_image(config, photo)
    assert buffered.size == PREVIEW_SIZE and mean_diff(buffered, preview) == 0
    # ... and displayed upright: the scene's top-left red block ends top-right after 90° clockwise
    upright = ImageOps.exif_transpose(buffered)
    assert upright.size == (1200, 1800)
    bw, bh = RED_BLOCK
    red = region_mean(upright, (1200 - bh + 20, 20, 1200 - 20, bw - 20))
    assert red[0] > 200 and red[1] < 60 and red[2] < 60, red
    assert region_mean(upright, (20, 20, bh - 20, bw - 20))[0] < 200  # not at the top left


def test_raw_beside_its_jpeg_is_paired_not_previewed(env, tmp_path):
    config, store, importer = env
    card = tmp_path / "card"
    put(card / DCIM / "P1000001.RW2", RAW_ONLY)  # sorts before its JPEG: the pair is still seen
    jpeg = put(card / DCIM / "P1000001.JPG", sample("orientation/landscape_1.jpg"))
    summary = importer.import_tree(card).summary()

    assert (summary["imported"], summary["raw_archived"], summary["raw_paired"]) == (1, 1, 1), summary
    assert summary["derived"] == {}
    photo = store.row("SELECT * FROM photos")
    assert photo["sha256"] == sha256(jpeg) and photo["derived_from"] is None
    assert _original(store, "P1000001.RW2")["photo_id"] == photo["id"]
    assert_buffer_sound(config, store)


def test_raw_beside_a_heif_pairs_with_the_heif_photo(env, tmp_path):
    """Canon's RAW+HEIF: IMG_0001.CR3 + IMG_0001.HIF (here an RW2 and the iPhone HEIC)."""
    config, store, importer = env
    card = tmp_path / "card"
    put(card / DCIM / "IMG_0001.HIF", IPHONE_HEIC)
    put(card / DCIM / "IMG_0001.RW2", RAW_ONLY)
    summary = importer.import_tree(card).summary()
    assert (summary["imported"], summary["raw_archived"], summary["raw_paired"]) == (1, 2, 1), summary
    assert summary["derived"] == {"heif": 1}
    photo = store.row("SELECT * FROM photos")
    assert photo["original_name"] == "IMG_0001.HIF"
    assert {r["original_name"]: r["photo_id"] for r in store.rows("SELECT * FROM raw_files")} == {
        "IMG_0001.HIF": photo["id"], "IMG_0001.RW2": photo["id"]}
    assert_buffer_sound(config, store)


def test_frames_arriving_alone(env, tmp_path):
    """FTP and uploads import one file at a time: the store decides whether a RAW is alone."""
    config, store, importer = env
    inbox = tmp_path / "inbox"
    # JPEG first, then its RAW: the RAW pairs with it
    jpeg = put(inbox / "a" / "IMG_0001.JPG", sample("orientation/landscape_1.jpg"))
    importer.import_paths([(jpeg, None)], source="ftp")
    raw = put(inbox / "a" / "IMG_0001.RW2", RAW_ONLY)
    summary = importer.import_paths([(raw, None)], source="ftp").summary()
    assert (summary["imported"], summary["raw_paired"]) == (0, 1), summary
    assert _original(store, "IMG_0001.RW2")["photo_id"] == store.photo_id_by_sha(sha256(jpeg))

    # RAW first: it gets its preview photo; the JPEG sent after it becomes a photo of its own and the
    # RAW stays with its preview photo (documented in docs/ingest.md)
    raw2 = put(inbox / "b" / "IMG_0002.RW2", RAW_ONLY.read_bytes() + b"\0")  # another frame
    assert importer.import_paths([(raw2, None)], source="ftp").summary()["derived"] == {"raw-preview": 1}
    preview_photo = _photo(store, "IMG_0002.RW2")
    jpeg2 = put(inbox / "b" / "IMG_0002.JPG", sample("orientation/landscape_3.jpg"))
    assert importer.import_paths([(jpeg2, None)], source="ftp").summary()["imported"] == 1
    assert _original(store, "IMG_0002.RW2")["photo_id"] == preview_photo["id"]
    assert store.scalar("SELECT COUNT(*) FROM photos") == 3
    assert_buffer_sound(config, store)


def test_heic_becomes_a_photo_and_its_live_photo_movie_is_skipped(env, tmp_path):
    config, store, importer = env
    card = tmp_path / "card" / "DCIM" / "100APPLE"
    heic = put(card / "IMG_1234.HEIC", IPHONE_HEIC)
    put(card / "IMG_1234.MOV", b"\0\0\0\x14ftypqt  " + b"\0" * 2000)
    put(card / "IMG_1235.heif", PLAIN_HEIF)
    put(card / "MVI_0001.MOV", b"\0\0\0\x14ftypqt  " + b"\0" * 2000)  # a movie of its own
    summary = importer.import_tree(tmp_path / "card").summary()

    assert (summary["imported"], summary["raw_archived"]) == (2, 2), summary
    assert summary["derived"] == {"heif": 2}
    assert summary["skipped_examples"] == {
        "Live Photo video: its still (IMG_1234.HEIC) is imported": [str(card / "IMG_1234.MOV")],
        "video (.mov), not imported": [str(card / "MVI_0001.MOV")],
    }
    photo = _photo(store, "IMG_1234.HEIC")
    assert photo["derived_from"] == "heif" and (photo["width"], photo["height"]) == (1025, 900)
    assert (photo["camera_make"], photo["camera_model"]) == ("Apple", "iPhone XS")
    assert photo["capture_time"] == "2021-07-06T16:08:14.164+03:00"  # EXIF kept, sub-seconds, offset
    assert _original(store, "IMG_1234.HEIC")["photo_id"] == photo["id"]
    assert (config.folder("archive") / _original(store, "IMG_1234.HEIC")["archive_path"]).read_bytes() \
        == heic.read_bytes()

    import pillow_heif
    pillow_heif.register_heif_opener()
    with Image.open(heic) as source:
        source.load()
        icc = source.info["icc_profile"]
    buffered = _buffer_image(config, photo)
    assert buffered.info["icc_profile"] == icc  # Display P3 kept, not converted at import
    assert mean_diff(buffered, source) < 1.5  # high quality
    assert_buffer_sound(config, store)


def test_reimporting_raw_and_heic_are_duplicates(env, tmp_path):
    config, store, importer = env
    card = tmp_path / "card" / DCIM
    put(card / "P1000001.RW2", RAW_ONLY)
    put(card / "IMG_1234.HEIC", IPHONE_HEIC)
    importer.import_tree(tmp_path / "card")
    before = store.rows("SELECT id, sha256 FROM photos ORDER BY id")

    again = importer.import_tree(tmp_path / "card").summary()
    assert (again["imported"], again["raw_archived"], len(again["derived"])) == (0, 0, 0), again
    assert again["duplicates"] == 2
    # the same originals under other names, elsewhere (an FTP re-send, a second card reader)
    put(tmp_path / "other" / "X.RW2", RAW_ONLY)
    put(tmp_path / "other" / "Y.HEIC", IPHONE_HEIC)
    assert importer.import_tree(tmp_path / "other").summary()["duplicates"] == 2
    assert store.rows("SELECT id, sha256 FROM photos ORDER BY id") == before
    assert store.scalar("SELECT COUNT(*) FROM raw_files") == 2
    assert_buffer_sound(config, store)


def test_raws_without_a_usable_preview_are_archived_with_a_notice(env, tmp_path):
    config, store, importer = env
    card = tmp_path / "card" / DCIM
    for name in SMALL_PREVIEW:
        put(card / name, data(f"exiftool/{name}"))
    put(card / "EMPTY.RW2", b"")
    put(card / "CUT.RW2", truncated(RAW_ONLY))
    summary = importer.import_tree(tmp_path / "card").summary()

    assert summary["imported"] == 0 and store.scalar("SELECT COUNT(*) FROM photos") == 0
    assert summary["raw_archived"] == len(SMALL_PREVIEW) + 1  # nothing lost, the cut one too
    assert summary["skipped"] == {"empty file (0 bytes)": 1}
    notices = {Path(p).name: reason for reason, paths in summary["notice_examples"].items() for p in paths}
    for name, why in SMALL_PREVIEW.items():
        assert notices[name].startswith(why), notices[name]
    assert "importer.raw_decode" in notices["FujiFilm.raf"]
    assert "CUT.RW2" in notices
    assert store.scalar("SELECT COUNT(*) FROM raw_files WHERE photo_id IS NOT NULL") == 0
    assert not [p for p in config.folder("buffer").rglob("*") if p.is_file()]
    assert_buffer_sound(config, store)


def test_small_preview_threshold_is_the_config(tmp_path):
    config = local_config(tmp_path, "[importer]\nraw_min_preview = 100\n")
    store = Store(config.db_path)
    put(tmp_path / "card" / "FujiFilm.raf", data("exiftool/FujiFilm.raf"))
    summary = Importer(config, store).import_tree(tmp_path / "card").summary()
    assert summary["derived"] == {"raw-preview": 1}, summary
    photo = _photo(store, "FujiFilm.raf")
    # a RAF is not TIFF-based: the camera comes from the preview's EXIF (LibRaw's spelling)
    assert (photo["width"], photo["height"], photo["camera_make"]) == (160, 120, "Fujifilm")
    store.close()


def test_raw_decode_develops_a_raw_without_preview(tmp_path):
    config = local_config(tmp_path, "[importer]\nraw_decode = true\n")
    store = Store(config.db_path)
    put(tmp_path / "card" / "DNG.dng", data("exiftool/DNG.dng"))
    put(tmp_path / "card" / "CanonRaw.cr2", data("exiftool/CanonRaw.cr2"))
    summary = Importer(config, store).import_tree(tmp_path / "card").summary()
    assert summary["derived"] == {"raw-decode": 1}, summary
    photo = _photo(store, "DNG.dng")
    assert photo["orientation"] == 1 and photo["width"] > 0
    assert _original(store, "DNG.dng")["photo_id"] == photo["id"]
    notice = next(iter(summary["notices"]))
    assert "decoding the RAW failed too" in notice or "not a readable RAW" in notice
    assert_buffer_sound(config, store)
    store.close()


def test_bad_heic_is_skipped_and_nothing_kept(env, tmp_path):
    config, store, importer = env
    card = tmp_path / "card" / "DCIM" / "100APPLE"
    put(card / "IMG_0001.HEIC", CORRUPT_HEIC)
    # its primary image ends at 62 KB of 156 KB (the rest is a second image): cut inside it
    put(card / "IMG_0002.HEIC", truncated(IPHONE_HEIC, 3))
    put(card / "IMG_0003.HEIC", b"")
    put(card / "IMG_0004.HEIC", b"\0\0\0\x18ftypheic" + b"\0" * 1000)
    summary = importer.import_tree(tmp_path / "card").summary()
    assert summary["skipped"] == {REASON_BAD_HEIF: 3, "empty file (0 bytes)": 1}, summary
    assert store.scalar("SELECT COUNT(*) FROM photos") == 0
    assert store.scalar("SELECT COUNT(*) FROM raw_files") == 0
    for folder in ("buffer", "archive"):
        assert not [p for p in config.folder(folder).rglob("*") if p.is_file()], folder
    # skipped, not recorded: the same files are tried again (not duplicates) next time
    assert importer.import_tree(tmp_path / "card").summary()["skipped"][REASON_BAD_HEIF] == 3


def test_a_derived_photo_keeps_the_rating_and_protect_flag_auto_publish_reads(env, tmp_path):
    """A rated HEIC and a protected (read-only on the card) RAW-only frame: the photo made from each
    carries what the `rated` and `protected` auto-publish rules look at."""
    import pillow_heif
    from support.rated import rated_frame

    pillow_heif.register_heif_opener()
    config, store, importer = env
    card = tmp_path / "card" / "DCIM" / "100CANON"
    rated = rated_frame(sample("orientation/landscape_1.jpg"), tmp_path / "rated.jpg", rating=4)
    with Image.open(rated) as image:
        image.save(put(card / "IMG_0001.HEIC", b""), "HEIF", exif=image.getexif().tobytes(), quality=80)
    raw = put(card / "IMG_0002.RW2", RAW_ONLY)
    raw.chmod(0o444)  # the FAT read-only attribute, as the kernel's vfat driver shows it
    summary = importer.import_tree(card.parent.parent).summary()
    assert summary["derived"] == {"heif": 1, "raw-preview": 1}, summary
    assert _photo(store, "IMG_0001.HEIC")["rating"] == 4
    assert _photo(store, "IMG_0002.RW2")["protected"] == 1
    assert not _photo(store, "IMG_0001.HEIC")["protected"]


def test_heic_thumbnail_is_made_from_its_one_decode(env, tmp_path):
    """The HEIC is decoded once at import: its admin thumbnail comes from those pixels (not from
    decoding the buffer JPEG again), as close to a careful (Lanczos) reduction of the HEIC as the
    buffer JPEG's own thumbnail is, or closer."""
    config, store, importer = env
    put(tmp_path / "card" / "DCIM" / "100APPLE" / "IMG_1234.HEIC", IPHONE_HEIC)
    assert importer.import_tree(tmp_path / "card").summary()["imported"] == 1
    photo = _photo(store, "IMG_1234.HEIC")
    again = tmp_path / "from-jpeg.jpg"
    size = pipeline.thumbnail_from_original(config.folder("buffer") / photo["buffer_path"], again,
                                            config.importer.thumb_size)
    import pillow_heif
    pillow_heif.register_heif_opener()
    with Image.open(IPHONE_HEIC) as heic:
        heic.load()
        careful = pipeline.to_srgb(heic.resize(size, Image.Resampling.LANCZOS), heic.info["icc_profile"])
    with Image.open(config.folder("state") / "thumbs" / photo["thumb_path"]) as made, \
            Image.open(again) as from_jpeg:
        assert made.size == size == (400, 351)
        assert "icc_profile" not in made.info  # converted to sRGB, like every thumbnail
        assert mean_diff(made, from_jpeg) < 4.0
        assert mean_diff(made, careful) <= mean_diff(from_jpeg, careful) + 0.2
