"""Deriving buffer JPEGs from originals: the RAW preview (rawpy), HEIC (pillow-heif with this venv's
Pillow, pillow-simd on x86_64) and the EXIF segment swap, on the real files of tests/data/."""

from __future__ import annotations

import io
from pathlib import Path

import pillow_heif
import pytest
import rawpy
from PIL import Image, ImageCms
from support.images import exif_bytes, marked_pattern, mean_diff, region_mean, save_jpeg
from support.originals import CORRUPT_HEIC, IPHONE_HEIC, PREVIEW_SIZE, RAW_ONLY, SMALL_PREVIEW, data
from support.samples import sample

from appliance.imaging.derive import HEIF, RAW_PREVIEW, DeriveError, with_exif
from appliance.imaging.heif import heif_jpeg
from appliance.imaging.raw_preview import raw_jpeg, tiff_exif


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_with_exif_swaps_only_the_exif_segment(tmp_path):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = save_jpeg(tmp_path / "a.jpg", marked_pattern(), quality=90, icc_profile=icc,
                       exif=exif_bytes(t010F="Old", t0112=3))
    new = Image.Exif()
    new[0x010F], new[0x0112] = "New", 6
    out = with_exif(source.read_bytes(), new.tobytes())
    image = _open(out)
    assert image.getexif()[0x010F] == "New" and image.getexif()[0x0112] == 6
    assert image.info["icc_profile"] == icc  # other segments kept
    assert mean_diff(image, _open(source.read_bytes())) == 0  # the compressed data untouched
    assert out.endswith(source.read_bytes()[-2000:])
    # a camera JPEG with its own EXIF and a JFIF header
    camera = sample("orientation/portrait_6.jpg").read_bytes()
    assert _open(with_exif(camera, new.tobytes())).getexif()[0x010F] == "New"
    assert _open(with_exif(camera, b"")).getexif().get(0x0112) is None


def test_with_exif_refuses_what_is_not_a_whole_jpeg():
    jpeg = sample("orientation/landscape_1.jpg").read_bytes()
    for bad in (b"", b"\x89PNG\r\n", jpeg[:3], jpeg[:300]):
        with pytest.raises(DeriveError):
            with_exif(bad, b"")


def test_raw_preview_carries_the_raws_metadata():
    derived = raw_jpeg(RAW_ONLY)
    assert derived.how == RAW_PREVIEW
    image = _open(derived.data)
    assert image.size == PREVIEW_SIZE
    exif = image.getexif()
    assert exif[0x0112] == 6  # LibRaw flip 6: 90° clockwise
    assert (exif[0x010F], exif[0x0110]) == ("Panasonic", "DMC-LX3")
    assert exif.get_ifd(0x8769)[0x9003] == "2008:08:06 15:21:56"
    with rawpy.imread(str(RAW_ONLY)) as raw:
        assert mean_diff(image, _open(raw.extract_thumb().data)) == 0


def test_raw_without_a_usable_preview_says_why():
    for name, why in SMALL_PREVIEW.items():
        with pytest.raises(DeriveError) as caught:
            raw_jpeg(data(f"exiftool/{name}"))
        assert str(caught.value).startswith(why)
    assert raw_jpeg(data("exiftool/FujiFilm.raf"), min_edge=160).how == RAW_PREVIEW
    with pytest.raises(DeriveError, match="not a readable RAW"):
        raw_jpeg(IPHONE_HEIC)


def test_tiff_exif_reads_tiff_based_raws_only():
    assert tiff_exif(RAW_ONLY)[0x010F] == "Panasonic"  # RW2's "IIU" header
    assert tiff_exif(data("exiftool/Nikon.nef"))[0x0110] == "NIKON D70"
    assert tiff_exif(data("exiftool/FujiFilm.raf")) is None  # not TIFF-based
    assert tiff_exif(Path("/nonexistent.nef")) is None


def test_heic_keeps_profile_and_exif_at_high_quality():
    derived = heif_jpeg(IPHONE_HEIC)
    assert derived.how == HEIF
    image = _open(derived.data)
    pillow_heif.register_heif_opener()
    with Image.open(IPHONE_HEIC) as heic:
        heic.load()
        assert image.info["icc_profile"] == heic.info["icc_profile"]
        assert image.size == heic.size == (1025, 900)
        assert mean_diff(image, heic) < 1.5
    exif = image.getexif()
    assert (exif[0x010F], exif[0x0110], exif[0x0112]) == ("Apple", "iPhone XS", 1)
    assert "Display P3" in ImageCms.getProfileDescription(
        ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"])))


def test_heic_rotation_is_applied(tmp_path):
    """A synthetic HEIC (no small public one is rotated) written by pillow-heif with orientation 6,
    which it stores as the HEIF rotation property."""
    pillow_heif.register_heif_opener()
    path = tmp_path / "rotated.heic"
    marked_pattern((600, 400)).save(path, quality=90, exif=exif_bytes(t0112=6))
    image = _open(heif_jpeg(path).data)
    assert image.size == (400, 600) and image.getexif()[0x0112] == 1
    red = region_mean(image, (350, 10, 390, 50))  # the top-left block, turned to the top right
    assert red[0] > 200 and red[1] < 60, red


def test_bad_heic_says_why(tmp_path):
    cut = tmp_path / "cut.heic"
    cut.write_bytes(IPHONE_HEIC.read_bytes()[:40_000])
    jpeg = tmp_path / "photo.heic"
    jpeg.write_bytes(sample("orientation/landscape_1.jpg").read_bytes())
    for path in (CORRUPT_HEIC, cut, jpeg):
        with pytest.raises(DeriveError, match="HEIC"):
            heif_jpeg(path)
