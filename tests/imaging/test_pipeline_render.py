"""The image pipeline on real camera files and on synthetic patterns whose answer is known."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageOps
from support.images import (
    exif_bytes,
    jpeg_with_profile,
    marked_pattern,
    mean_diff,
    psnr,
    region_mean,
    save_jpeg,
    swapped_rgb_profile,
)
from support.samples import sample

from appliance.imaging import pipeline, watermark
from appliance.imaging.pipeline import ImageError
from appliance.imaging.recipe import Recipe, RecipeError


def render(path: Path, long_edge: int = 2048, **recipe: float) -> Image.Image:
    return pipeline.render(path, Recipe.parse(recipe), long_edge)


def is_red(rgb: tuple[float, ...]) -> bool:
    return rgb[0] > 150 and rgb[1] < 90 and rgb[2] < 90


def is_blue(rgb: tuple[float, ...]) -> bool:
    return rgb[2] > 150 and rgb[0] < 90 and rgb[1] < 90


# -- recipes -------------------------------------------------------------------------------------
def test_recipe_parses_valid_values():
    recipe = Recipe.parse({"exposure": -2, "rotate": 270, "straighten": 9.5, "scale": 0.5})
    assert recipe == Recipe(exposure=-2.0, rotate=270, straighten=9.5, scale=0.5)
    assert Recipe.parse({"rotate": -90}).rotate == 270
    assert Recipe.parse(None) == Recipe() == Recipe.parse({})


@pytest.mark.parametrize("raw, message", [
    ({"exposure": 2.5}, "exposure must be between -2 and 2"),
    ({"exposure": "1"}, "exposure must be a number"),
    ({"exposure": float("nan")}, "exposure must be between"),
    ({"straighten": -10.5}, "straighten must be between -10 and 10"),
    ({"scale": 0.4}, "scale must be between 0.5 and 2"),
    ({"scale": True}, "scale must be a number"),
    ({"rotate": 45}, "rotate must be 0, 90, 180 or 270"),
    ({"rotate": "90"}, "rotate must be 0, 90, 180 or 270"),
    ({"crop": 1}, "unknown edit 'crop'"),
    ([1, 2], "recipe must be an object"),
    ("exposure=1", "recipe must be an object"),
])
def test_recipe_rejects_malformed_and_out_of_range(raw, message):
    with pytest.raises(RecipeError, match=message):
        Recipe.parse(raw)


# -- orientation -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["landscape", "portrait"])
def test_every_orientation_sample_ends_up_upright(kind):
    reference = render(sample(f"orientation/{kind}_1.jpg"))
    assert (reference.width > reference.height) == (kind == "landscape")
    for n in range(2, 9):
        out = render(sample(f"orientation/{kind}_{n}.jpg"))
        assert out.size == reference.size, n
        # The same picture (re-encoded by the sample's author: small differences only) ...
        assert mean_diff(out, reference) < 12, n
        # ... and clearly not a mirrored or turned one.
        assert mean_diff(out, ImageOps.mirror(reference)) > 2 * mean_diff(out, reference), n


def test_rotation_moves_a_marked_corner_clockwise(tmp_path):
    src = save_jpeg(tmp_path / "pattern.jpg", marked_pattern((600, 400)))
    expected_red = {0: "tl", 90: "tr", 180: "br", 270: "bl"}
    for rotate, corner in expected_red.items():
        out = render(src, rotate=rotate)
        assert out.size == ((600, 400) if rotate in (0, 180) else (400, 600))
        w, h = out.size
        boxes = {"tl": (5, 5, 40, 40), "tr": (w - 40, 5, w - 5, 40),
                 "bl": (5, h - 40, 40, h - 5), "br": (w - 40, h - 40, w - 5, h - 5)}
        opposite = {"tl": "br", "tr": "bl", "br": "tl", "bl": "tr"}[corner]
        assert is_red(region_mean(out, boxes[corner])), (rotate, corner)
        assert is_blue(region_mean(out, boxes[opposite])), (rotate, opposite)


def test_rotation_composes_with_exif_orientation(tmp_path):
    # Stored turned left with orientation 6 ("turn right to display"): displayed it is the pattern.
    stored = marked_pattern((600, 400)).transpose(Image.Transpose.ROTATE_90)
    src = save_jpeg(tmp_path / "o6.jpg", stored, exif=exif_bytes(t0112=6))
    upright = render(src)
    assert upright.size == (600, 400)
    assert is_red(region_mean(upright, (5, 5, 40, 40)))
    turned = render(src, rotate=90)
    assert turned.size == (400, 600)
    assert is_red(region_mean(turned, (360, 5, 395, 40)))  # top-right


# -- straighten, scale, exposure --------------------------------------------------------------------
def test_straighten_levels_a_tilted_horizon(tmp_path):
    picture = Image.new("RGB", (1200, 800), (235, 235, 235))
    ImageDraw.Draw(picture).line((0, 400, 1200, 400), fill=(10, 10, 10), width=9)
    tilted = picture.rotate(6, Image.Resampling.BICUBIC, fillcolor=(235, 235, 235))  # anticlockwise
    src = save_jpeg(tmp_path / "tilted.jpg", tilted)

    def line_row(image: Image.Image, x: int) -> float:
        dark = [(y, 255 - image.getpixel((x, y))[0]) for y in range(image.height)]
        dark = [(y, weight) for y, weight in dark if weight > 128]
        return sum(y * weight for y, weight in dark) / sum(weight for _, weight in dark)

    def slope(image: Image.Image) -> float:
        w = image.width
        return line_row(image, int(w * 0.8)) - line_row(image, int(w * 0.2))

    assert slope(render(src)) < -40  # rises to the right before straightening
    assert abs(slope(render(src, straighten=6))) <= 2
    assert slope(render(src, straighten=-6)) < -80  # the other way doubles the tilt


@pytest.mark.parametrize("angle", [-10, -3.5, 0.7, 10])
def test_straighten_crops_so_no_empty_corner_shows(tmp_path, angle):
    src = save_jpeg(tmp_path / "flat.jpg", Image.new("RGB", (1500, 1000), (250, 250, 250)))
    out = render(src, long_edge=1200, straighten=angle)
    assert abs(out.width / out.height - 1.5) < 0.01  # the aspect ratio is kept
    w, h = out.size
    for x, y in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1), (w // 2, 0), (0, h // 2)):
        assert min(out.getpixel((x, y))) >= 240, (angle, x, y, out.getpixel((x, y)))


def test_scale_above_one_zooms_into_the_centre(tmp_path):
    picture = Image.new("RGB", (1200, 800), (128, 128, 128))
    picture.paste((20, 200, 20), (300, 200, 900, 600))  # the middle half is green
    src = save_jpeg(tmp_path / "centre.jpg", picture)
    out = render(src, scale=2.0)
    assert out.size == (600, 400)  # the centre crop at its own resolution: never upscaled
    for x, y in ((2, 2), (597, 2), (2, 397), (597, 397)):
        r, g, b = out.getpixel((x, y))
        assert g > 170 and r < 60 and b < 60, (x, y)
    whole = render(src, scale=1.0)
    assert whole.size == (1200, 800) and whole.getpixel((2, 2))[1] < 160


def test_scale_below_one_publishes_a_smaller_image(tmp_path):
    src = save_jpeg(tmp_path / "big.jpg", marked_pattern((3000, 2000)))
    assert render(src).size == (2048, 1365)
    assert render(src, scale=0.5).size == (1024, 683)
    small = save_jpeg(tmp_path / "small.jpg", marked_pattern((640, 480)))
    assert render(small).size == (640, 480)  # never upscaled


def test_exposure_works_in_stops(tmp_path):
    src = save_jpeg(tmp_path / "grey.jpg", Image.new("RGB", (400, 300), (118, 118, 118)))
    level = {ev: render(src, exposure=ev).getpixel((200, 150))[0] for ev in (-2, -1, 0, 1, 2)}
    assert abs(level[0] - 118) <= 2
    assert level[-2] < level[-1] < level[0] < level[1] < level[2]
    assert 150 <= level[1] <= 170  # one stop doubles the light: 18 % grey -> 36 %
    assert 76 <= level[-1] <= 90


# -- colour -----------------------------------------------------------------------------------------
# A straighten colour-manages after the turn (fewer pixels): both ways must convert.
EDITS = [{}, {"straighten": 3.0}]


@pytest.mark.parametrize("edits", EDITS, ids=["plain", "straightened"])
def test_embedded_profile_is_converted_to_srgb(tmp_path, edits):
    src = jpeg_with_profile(tmp_path / "swapped.jpg", (200, 40, 40), swapped_rgb_profile())
    out = render(src, **edits)
    r, g, b = out.getpixel((100, 100))
    assert b > 170 and r < 70, (r, g, b)  # the profile says these numbers are blue
    plain = save_jpeg(tmp_path / "plain.jpg", Image.new("RGB", (320, 240), (200, 40, 40)))
    r, g, b = render(plain, **edits).getpixel((100, 100))
    assert r > 180 and b < 60  # untagged means sRGB: unchanged


@pytest.mark.parametrize("edits", EDITS, ids=["plain", "straightened"])
def test_cmyk_and_greyscale_jpegs(tmp_path, edits):
    cmyk = save_jpeg(tmp_path / "cmyk.jpg", Image.new("CMYK", (400, 300), (0, 255, 255, 0)))
    assert Image.open(cmyk).mode == "CMYK"
    out = render(cmyk, **edits)
    assert out.mode == "RGB" and is_red(out.getpixel((150, 100)))
    grey = save_jpeg(tmp_path / "grey.jpg", Image.new("L", (400, 300), 90))
    out = render(grey, **edits)
    assert out.mode == "RGB" and all(abs(v - 90) <= 2 for v in out.getpixel((150, 100)))


def test_progressive_jpeg_renders_like_baseline(tmp_path):
    picture = marked_pattern((2400, 1600))
    baseline = save_jpeg(tmp_path / "baseline.jpg", picture)
    progressive = save_jpeg(tmp_path / "progressive.jpg", picture, progressive=True)
    assert Image.open(progressive).info.get("progressive")
    a, b = render(baseline, long_edge=1200), render(progressive, long_edge=1200)
    assert a.size == b.size == (1200, 800) and psnr(a, b) > 40


def test_mpo_from_cameras_with_embedded_previews(tmp_path):
    frames = [marked_pattern((800, 600)), marked_pattern((160, 120))]
    path = tmp_path / "camera.jpg"
    frames[0].save(path, "MPO", save_all=True, append_images=frames[1:], quality=90)
    assert Image.open(path).format == "MPO"
    assert render(path).size == (800, 600)


# -- outputs and metadata -----------------------------------------------------------------------------
def test_outputs_are_sized_as_recorded_and_exif_is_cleaned(tmp_path):
    src = sample("gps/DSCN0010.jpg")
    assert 0x8825 in Image.open(src).getexif()  # the original has GPS
    web, thumb, webp = tmp_path / "web.jpg", tmp_path / "thumb.jpg", tmp_path / "web.webp"
    result = pipeline.publish_files(src, Recipe(), web, thumb, long_edge=2048, thumb_edge=480,
                                    artist="Jane Doe", copyright_="(c) 2026 Jane Doe",
                                    webp_path=webp)
    with Image.open(web) as image:
        assert image.size == (result.width, result.height) == (640, 480)
        assert not image.info.get("progressive") and image.format == "JPEG"
        exif = image.getexif()
    with Image.open(thumb) as image:
        assert image.size == (result.thumb_width, result.thumb_height) == (480, 360)
    with Image.open(webp) as image:
        assert image.format == "WEBP" and image.size == (640, 480) and result.webp
    assert 0x8825 not in exif and exif.get_ifd(0x8825) == {}
    assert exif[0x013B] == "Jane Doe" and exif[0x8298] == "(c) 2026 Jane Doe"
    assert exif[0x010F].startswith("NIKON") and "P6000" in exif[0x0110]
    assert exif[0x0112] == 1
    assert exif.get_ifd(0x8769)[0x9003] == Image.open(src).getexif().get_ifd(0x8769)[0x9003]
    assert result.color.startswith("#") and len(result.color) == 7
    assert len(result.placeholder) == 27 and int(result.placeholder, 16) >= 0


def test_orientation_tag_is_reset_and_comments_dropped(tmp_path):
    stored = marked_pattern((600, 400)).transpose(Image.Transpose.ROTATE_90)
    src = save_jpeg(tmp_path / "o6.jpg", stored, exif=exif_bytes(t0112=6), comment=b"serial 1234")
    web = tmp_path / "out.jpg"
    pipeline.publish_files(src, Recipe(), web, tmp_path / "t.jpg")
    with Image.open(web) as image:
        assert image.size == (600, 400) and image.getexif()[0x0112] == 1
        assert "comment" not in image.info and "icc_profile" not in image.info


def test_thumbnail_is_made_from_the_web_image(tmp_path):
    src = save_jpeg(tmp_path / "p.jpg", marked_pattern((3000, 2000)), exif=exif_bytes(t0112=8))
    result = pipeline.publish_files(src, Recipe(exposure=1), tmp_path / "w.jpg", tmp_path / "t.jpg",
                                    thumb_edge=480)
    assert (result.width, result.height) == (1365, 2048)
    assert (result.thumb_width, result.thumb_height) == (320, 480)
    web = Image.open(tmp_path / "w.jpg").convert("RGB").resize((320, 480), Image.Resampling.BOX)
    assert mean_diff(web, Image.open(tmp_path / "t.jpg")) < 4


@pytest.mark.parametrize("position", ["bottom-right", "top-left"])
def test_the_thumbnail_carries_the_web_images_watermark(tmp_path, position):
    """The thumbnail is made in bands with the web image; the mark is the web image's, scaled."""
    src = save_jpeg(tmp_path / "p.jpg", marked_pattern((3000, 2000)), exif=exif_bytes(t0112=6))
    settings = watermark.WatermarkSettings(enabled=True, text="© Jane Doe", opacity=1.0, size=0.3,
                                           position=position)
    mark = watermark.Watermark(settings, tmp_path)
    plain = pipeline.render_encoded(src, Recipe(straighten=3), 1024, 300)
    marked = pipeline.render_encoded(src, Recipe(straighten=3), 1024, 300, watermark=mark)
    web = Image.open(io.BytesIO(marked.web)).convert("RGB")
    thumb = Image.open(io.BytesIO(marked.thumb)).convert("RGB")
    assert thumb.size == (marked.rendered.thumb_width, marked.rendered.thumb_height) == (200, 300)
    assert mean_diff(web.resize(thumb.size, Image.Resampling.BOX), thumb) < 4
    changed = ImageChops.difference(thumb, Image.open(io.BytesIO(plain.thumb)).convert("RGB"))
    box = changed.convert("L").point(lambda v: 255 if v > 40 else 0).getbbox()
    assert box is not None
    corner = (box[0] + box[2]) / 2 < 100, (box[1] + box[3]) / 2 < 150
    assert corner == ((True, True) if position == "top-left" else (False, False))


def test_webp_beside_the_jpeg_does_not_change_the_jpegs_quality():
    """The two encoders run at once: each must keep its own options (save() stores them on the
    image it saves)."""
    picture = marked_pattern((1600, 1067))
    reference = Image.open(io.BytesIO(pipeline.jpeg_bytes(picture, 95))).quantization
    for _ in range(6):
        encoded = pipeline.encode(picture, b"", quality=95, webp_quality=60)
        assert Image.open(io.BytesIO(encoded.web)).quantization == reference
        assert Image.open(io.BytesIO(encoded.webp)).format == "WEBP"


def test_the_plan_decodes_only_what_the_output_needs():
    p = pipeline.plan((6000, 4000), 6, Recipe(), 2048)
    assert p.output == (1365, 2048) and p.transpose == Image.Transpose.ROTATE_270
    assert p.factor == pytest.approx(2048 / 6000)
    zoomed = pipeline.plan((8192, 5464), 1, Recipe(scale=2), 2048)
    assert zoomed.output == (2048, 1366) and zoomed.factor == pytest.approx(0.5)


# -- bad input ------------------------------------------------------------------------------------
def _bomb(tmp_path: Path, width: int, height: int) -> Path:
    """A tiny JPEG whose frame header claims ``width`` × ``height`` pixels."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    path = tmp_path / f"bomb{width}.jpg"
    path.write_bytes(bytes(data))
    return path


def _truncated(tmp_path: Path) -> Path:
    good = save_jpeg(tmp_path / "good.jpg", Image.effect_noise((1200, 900), 60).convert("RGB"))
    path = tmp_path / "truncated.jpg"
    path.write_bytes(good.read_bytes()[: good.stat().st_size * 6 // 10])
    return path


@pytest.mark.parametrize("make, reason", [
    (lambda t: _bomb(t, 20000, 20000), "decompression bomb"),
    (lambda t: _bomb(t, 10000, 10000), "decompression bomb"),
    (_truncated, "truncated"),
    (lambda t: (t / "text.jpg").write_bytes(b"hello, not a photo" * 100) and t / "text.jpg",
     "not an image file"),
    (lambda t: (Image.new("RGB", (50, 50)).save(t / "x.png"), t / "x.png")[1], "not a JPEG"),
    (lambda t: t / "gone.jpg", "missing from the buffer"),
])
def test_bad_input_fails_with_its_reason_and_writes_nothing(tmp_path, make, reason):
    src = make(tmp_path)
    out = tmp_path / "web"
    out.mkdir()
    with pytest.raises(ImageError, match=reason):
        pipeline.publish_files(src, Recipe(), out / "photos" / "a.jpg", out / "thumbs" / "a.jpg",
                               webp_path=out / "photos" / "a.webp")
    assert [p for p in out.rglob("*") if p.is_file()] == []


def test_every_camera_sample_publishes_with_its_capture_data(tmp_path):
    cameras = sorted((sample("exif-org/canon-ixus.jpg").parent).glob("*.jpg"))
    assert len(cameras) >= 10
    for src in cameras:
        original = Image.open(src).getexif()
        web = tmp_path / f"{src.stem}.jpg"
        result = pipeline.publish_files(src, Recipe(exposure=0.3, straighten=1.5), web,
                                        tmp_path / f"{src.stem}_t.jpg", artist="A", copyright_="C")
        with Image.open(web) as image:
            exif = image.getexif()
            assert image.size == (result.width, result.height), src.name
        assert exif[0x0112] == 1 and exif[0x013B] == "A", src.name
        for tag in (0x010F, 0x0110):  # camera make and model survive
            if isinstance(original.get(tag), str) and original[tag].strip("\x00 "):
                assert exif.get(tag) == original[tag], (src.name, tag)
        taken = original.get_ifd(0x8769).get(0x9003)
        if taken:
            assert exif.get_ifd(0x8769).get(0x9003) == taken, src.name
