"""RAW-only and HEIC photos through the real publish worker: imported by the real importer from the
files of tests/data/, rendered by the publish pipeline like any camera JPEG."""

from __future__ import annotations

import io
from pathlib import Path

import pillow_heif
from PIL import Image, ImageCms
from support.images import mean_diff, region_mean
from support.originals import IPHONE_HEIC, RAW_ONLY, put
from support.publications import publish

from appliance.ingest.importer import Importer


def _import(config, store, source: Path, name: str) -> int:
    card = config.paths.data_root.parent / "card"
    put(card / name, source)
    summary = Importer(config, store).import_tree(card).summary()
    assert summary["imported"] == 1, summary
    return store.row("SELECT id FROM photos WHERE original_name = ?", (name,))["id"]


def _web(config, name: str) -> Image.Image:
    with Image.open(config.folder("web") / "party" / "photos" / f"{name}.jpg") as image:
        image.load()
        return image


def test_raw_only_frame_is_published_upright(env):
    config, store, publisher = env
    pub = publish(publisher, store, _import(config, store, RAW_ONLY, "P1000001.RW2"))
    assert pub["state"] == "published", pub["error"]
    web = _web(config, "P1000001")
    assert web.size == (341, 512)  # the 1800×1200 preview, turned by the RAW's orientation
    red = region_mean(web, (341 - 70, 10, 341 - 10, 100))
    assert red[0] > 200 and red[1] < 60 and red[2] < 60, red
    exif = web.getexif()
    assert (exif[0x010F], exif[0x0110], exif[0x0112]) == ("Panasonic", "DMC-LX3", 1)


def test_heic_is_published_in_srgb_from_its_profile(env):
    config, store, publisher = env
    pub = publish(publisher, store, _import(config, store, IPHONE_HEIC, "IMG_1234.HEIC"))
    assert pub["state"] == "published", pub["error"]
    assert pub["name"] == "IMG_1234"
    web = _web(config, "IMG_1234")
    assert web.size == (512, 450)
    assert web.getexif()[0x0110] == "iPhone XS"

    pillow_heif.register_heif_opener()
    with Image.open(IPHONE_HEIC) as heic:
        heic.load()
        p3 = ImageCms.ImageCmsProfile(io.BytesIO(heic.info["icc_profile"]))
        converted = ImageCms.profileToProfile(heic, p3, ImageCms.createProfile("sRGB"), outputMode="RGB")
        as_is = heic.convert("RGB")
    size = web.size
    honoured = mean_diff(web, converted.resize(size, Image.Resampling.LANCZOS))
    ignored = mean_diff(web, as_is.resize(size, Image.Resampling.LANCZOS))
    assert honoured < 3 and honoured < ignored * 0.9, (honoured, ignored)  # a dull scene: close


def test_heic_colour_profile_decides_the_published_colour(env, tmp_path):
    """A synthetic HEIC (the real one's colours are too dull to tell): one saturated Display P3
    colour, tagged with the iPhone's real P3 profile, written by pillow-heif."""
    config, store, publisher = env
    pillow_heif.register_heif_opener()
    with Image.open(IPHONE_HEIC) as heic:
        icc = heic.info["icc_profile"]
    colour = (200, 100, 50)
    source = tmp_path / "IMG_0001.HEIC"
    Image.new("RGB", (640, 480), colour).save(source, quality=95, icc_profile=icc)
    pub = publish(publisher, store, _import(config, store, source, "IMG_0001.HEIC"))
    assert pub["state"] == "published", pub["error"]
    p3 = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    expected = ImageCms.profileToProfile(Image.new("RGB", (1, 1), colour), p3,
                                         ImageCms.createProfile("sRGB"), outputMode="RGB").getpixel((0, 0))
    got = region_mean(_web(config, "IMG_0001"), (200, 150, 300, 250))
    assert max(abs(g - e) for g, e in zip(got, expected, strict=True)) < 5, (got, expected)
    assert max(abs(g - c) for g, c in zip(got, colour, strict=True)) > 12, (got, colour)
