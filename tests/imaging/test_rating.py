"""The in-camera rating read at import: EXIF Rating / RatingPercent, XMP xmp:Rating and
MicrosoftPhoto:Rating, on real camera samples."""

from __future__ import annotations

import pytest
from PIL import Image
from support.rated import rated_frame, xmp_rating
from support.samples import sample

from appliance.imaging import pipeline
from appliance.imaging.metadata import rating_of


def test_no_rating_in_a_plain_camera_frame():
    assert pipeline.read_exif_info(sample("exif-org/canon-ixus.jpg")).rating is None


def test_a_real_frame_with_microsoft_percent_zero_is_unrated():
    # this Nikon sample carries an XMP packet with MicrosoftPhoto:Rating 0 (written by Windows)
    path = sample("gps/DSCN0010.jpg")
    with Image.open(path) as image:
        assert b"MicrosoftPhoto:Rating>0<" in image.info["xmp"]
    assert pipeline.read_exif_info(path).rating == 0


@pytest.mark.parametrize("stars", [1, 3, 5])
def test_exif_rating_tag(tmp_path, stars):
    frame = rated_frame(sample("exif-org/canon-ixus.jpg"), tmp_path / "r.jpg", rating=stars)
    info = pipeline.read_exif_info(frame)
    assert info.rating == stars and info.make == "Canon" and info.width > 0


@pytest.mark.parametrize(("percent", "stars"), [(1, 1), (25, 2), (50, 3), (75, 4), (99, 5), (0, 0)])
def test_exif_rating_percent(tmp_path, percent, stars):
    frame = rated_frame(sample("exif-org/sony-d700.jpg"), tmp_path / "p.jpg", percent=percent)
    assert pipeline.read_exif_info(frame).rating == stars


@pytest.mark.parametrize("as_element", [False, True])
def test_xmp_rating(tmp_path, as_element):
    frame = rated_frame(sample("exif-org/nikon-e950.jpg"), tmp_path / "x.jpg",
                        xmp=xmp_rating(4, as_element=as_element))
    assert pipeline.read_exif_info(frame).rating == 4


def test_exif_rating_wins_over_xmp(tmp_path):
    frame = rated_frame(sample("exif-org/nikon-e950.jpg"), tmp_path / "b.jpg", rating=2,
                        xmp=xmp_rating(5))
    assert pipeline.read_exif_info(frame).rating == 2


def test_bad_values_are_no_rating():
    exif = Image.Exif()
    exif[0x4746] = "lots"
    assert rating_of(exif, b"<x:xmpmeta not xml") is None
    assert rating_of(Image.Exif(), b"\x00" * 10) is None
    exif[0x4746] = 9
    assert rating_of(exif, None) == 5  # clamped to five stars
    exif[0x4746] = -1
    assert rating_of(exif, None) == -1  # a rejected frame (Lightroom's -1)
