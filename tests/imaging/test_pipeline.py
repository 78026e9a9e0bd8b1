"""The image pipeline: orientation, colour, edits, metadata stripping and bad input."""

from __future__ import annotations

import io
import math
import struct
from pathlib import Path

import pytest
from PIL import Image, ImageCms, ImageDraw, ImageOps
from support.images import gray_profile, mean_brightness, mean_diff, save_jpeg
from support.samples import sample, sample_files

from appliance.fsutil import TEMP_PREFIX
from appliance.imaging import metadata, pipeline
from appliance.imaging.pipeline import ImageError
from appliance.imaging.recipe import Recipe, RecipeError

TAG_GPS = 0x8825
TAG_MAKERNOTE = 0x927C
TAG_DATETIME_ORIGINAL = 0x9003
ALL_TRANSPOSES = [None, *Image.Transpose]


def _reference_upright(path: Path) -> Image.Image:
    """What a correct viewer shows: EXIF orientation applied, embedded ICC profile honoured."""
    with Image.open(path) as im:
        icc = im.info.get("icc_profile")
        upright = ImageOps.exif_transpose(im).convert("RGB")
    if icc:
        # Most orientation samples carry Apple's "Generic RGB" profile (not sRGB): the pipeline
        # converts to sRGB, so the reference must too.
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        upright = ImageCms.profileToProfile(upright, source, pipeline.SRGB, outputMode="RGB")
    return upright


@pytest.mark.parametrize(
    "name", [f"{kind}_{n}.jpg" for kind in ("landscape", "portrait") for n in range(1, 9)]
)
def test_orientation_samples_render_upright(name: str) -> None:
    path = sample(f"orientation/{name}")
    out = pipeline.render(path, Recipe(), long_edge=320)  # smaller than the 600 px originals
    assert out.mode == "RGB"
    assert max(out.size) == 320
    if name.startswith("landscape"):
        assert out.width > out.height
    else:
        assert out.height > out.width
    reference = _reference_upright(path)
    assert (reference.width > reference.height) == (out.width > out.height)
    diff = mean_diff(out, reference.resize(out.size, Image.Resampling.LANCZOS))
    assert diff < 3, f"{name}: mean abs difference {diff:.1f} from the upright reference"
    # and every other orientation of the same pixels is clearly worse
    for method in Image.Transpose:
        wrong = reference.transpose(method)
        if wrong.size != reference.size:
            continue
        wrong_diff = mean_diff(out, wrong.resize(out.size, Image.Resampling.LANCZOS))
        assert wrong_diff > diff + 10, f"{name}: {method.name} is as close as the upright one"


def test_orientation_of_all_samples_not_enlarged() -> None:
    for path in sample_files("orientation/*.jpg"):
        out = pipeline.render(path, Recipe(), long_edge=2048)
        assert max(out.size) == 600  # never upscaled
        assert (out.width > out.height) == path.name.startswith("landscape")


# -- recipes ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"exposure": 2.5}, "exposure"),
        ({"exposure": -2.01}, "exposure"),
        ({"exposure": float("nan")}, "exposure"),
        ({"exposure": float("inf")}, "exposure"),
        ({"exposure": "1"}, "exposure"),
        ({"exposure": True}, "exposure"),
        ({"rotate": 45}, "rotate"),
        ({"rotate": "90"}, "rotate"),
        ({"rotate": True}, "rotate"),
        ({"rotate": 90.5}, "rotate"),
        ({"scale": "2"}, "scale"),
        ({"scale": 2.5}, "scale"),
        ({"scale": 0.1}, "scale"),
        ({"scale": float("nan")}, "scale"),
        ({"straighten": 11}, "straighten"),
        ({"straighten": float("-inf")}, "straighten"),
        ({"crop": 1}, "crop"),
        ({"exposure": 0, "Exposure": 1}, "Exposure"),
    ],
)
def test_recipe_parse_rejects(raw: dict, field: str) -> None:
    with pytest.raises(RecipeError) as excinfo:
        Recipe.parse(raw)
    assert field in str(excinfo.value)


def test_recipe_parse_accepts_valid_values() -> None:
    assert Recipe.parse(None) == Recipe()
    assert Recipe.parse({}) == Recipe()
    assert Recipe.parse({"exposure": None, "rotate": None}) == Recipe()
    recipe = Recipe.parse({"exposure": -2, "rotate": 270, "straighten": 10, "scale": 0.5})
    assert recipe == Recipe(exposure=-2.0, rotate=270, straighten=10.0, scale=0.5)
    assert isinstance(recipe.exposure, float)
    assert Recipe.parse({"rotate": -90}).rotate == 270
    assert Recipe.parse({"rotate": 90.0}).rotate == 90
    assert Recipe.parse(recipe.to_dict()) == recipe


# -- edits --------------------------------------------------------------------------------------
RED = (255, 0, 0)


def _is_red(pixel: tuple[int, int, int]) -> bool:
    r, g, b = pixel
    return r > 200 and g < 60 and b < 60


def _is_white(pixel: tuple[int, int, int], tolerance: int = 12) -> bool:
    return min(pixel) >= 255 - tolerance


@pytest.fixture
def marked(tmp_path: Path) -> Path:
    """A 400×300 white JPEG with a red block in its top-left corner."""
    image = Image.new("RGB", (400, 300), "white")
    ImageDraw.Draw(image).rectangle((0, 0, 59, 59), fill=RED)
    return save_jpeg(tmp_path / "marked.jpg", image)


@pytest.mark.parametrize(
    ("rotate", "size", "corner"),
    [
        (0, (400, 300), "top-left"),
        (90, (300, 400), "top-right"),
        (180, (400, 300), "bottom-right"),
        (270, (300, 400), "bottom-left"),
    ],
)
def test_rotate_is_clockwise(marked: Path, rotate: int, size: tuple[int, int], corner: str) -> None:
    out = pipeline.render(marked, Recipe(rotate=rotate), long_edge=400)
    assert out.size == size
    w, h = out.size
    corners = {
        "top-left": (20, 20), "top-right": (w - 21, 20),
        "bottom-left": (20, h - 21), "bottom-right": (w - 21, h - 21),
    }
    for name, xy in corners.items():
        if name == corner:
            assert _is_red(out.getpixel(xy)), f"rotate {rotate}: no red block {name}"
        else:
            assert _is_white(out.getpixel(xy)), f"rotate {rotate}: {name} is not white"


def test_rotate_combines_with_exif_orientation() -> None:
    path = sample("orientation/portrait_6.jpg")
    out = pipeline.render(path, Recipe(rotate=90), long_edge=320)
    assert out.width > out.height  # an upright portrait turned a quarter turn
    reference = _reference_upright(path).transpose(Image.Transpose.ROTATE_270)  # 90° clockwise
    assert mean_diff(out, reference.resize(out.size, Image.Resampling.LANCZOS)) < 3


def test_exposure_brightens_and_darkens() -> None:
    path = sample("gps/DSCN0010.jpg")
    base = mean_brightness(pipeline.render(path, Recipe(), long_edge=320))
    brighter = mean_brightness(pipeline.render(path, Recipe(exposure=1), long_edge=320))
    darker = mean_brightness(pipeline.render(path, Recipe(exposure=-1), long_edge=320))
    assert brighter > base + 15
    assert darker < base - 15
    # +2 EV is brighter still; black stays black and white stays white
    assert mean_brightness(pipeline.render(path, Recipe(exposure=2), long_edge=320)) > brighter
    lut = pipeline._exposure_lut(1.0)
    assert lut[0] == 0 and lut[255] == 255
    assert pipeline._exposure_lut(-1.0)[255] < 255


def test_straighten_leaves_no_black_corners(tmp_path: Path) -> None:
    white = save_jpeg(tmp_path / "white.jpg", Image.new("RGB", (1200, 900), "white"))
    for angle in (5, -5, 10, 0.5):
        out = pipeline.render(white, Recipe(straighten=angle), long_edge=600)
        w, h = out.size
        assert max(w, h) <= 600
        assert w > h  # the crop is the largest upright rectangle inside the turned frame
        border = [(x, y) for x in range(w) for y in (0, h - 1)]
        border += [(x, y) for y in range(h) for x in (0, w - 1)]
        darkest = min(min(out.getpixel(xy)) for xy in border)
        assert darkest >= 240, f"straighten {angle}: border pixel as dark as {darkest}"


def test_straighten_positive_turns_clockwise(tmp_path: Path) -> None:
    image = Image.new("RGB", (800, 600), "white")
    ImageDraw.Draw(image).rectangle((0, 295, 799, 304), fill="black")  # a horizon
    path = save_jpeg(tmp_path / "horizon.jpg", image)
    out = pipeline.render(path, Recipe(straighten=5), long_edge=800).convert("L")
    w, h = out.size

    def horizon_at(x: int) -> float:
        column = [out.getpixel((x, y)) for y in range(h)]
        dark = [y for y, v in enumerate(column) if v < 128]
        return sum(dark) / len(dark)

    left, right = horizon_at(20), horizon_at(w - 21)
    expected = (w - 41) * math.tan(math.radians(5))
    assert right - left == pytest.approx(expected, abs=4)  # right end went down: clockwise


def _dark_box(image: Image.Image) -> tuple[int, int, int, int]:
    mask = image.convert("L").point(lambda v: 255 if v < 128 else 0)
    box = mask.getbbox()
    assert box is not None
    return box


def test_scale_two_magnifies_the_centre(tmp_path: Path) -> None:
    image = Image.new("RGB", (800, 600), "white")
    ImageDraw.Draw(image).rectangle((360, 260, 439, 339), fill="black")  # centred 80×80 square
    path = save_jpeg(tmp_path / "square.jpg", image)
    plain = pipeline.render(path, Recipe(), long_edge=800)
    zoomed = pipeline.render(path, Recipe(scale=2.0), long_edge=800)
    left, top, right, bottom = _dark_box(plain)
    plain_ratio = (right - left) / plain.width
    left, top, right, bottom = _dark_box(zoomed)
    zoomed_ratio = (right - left) / zoomed.width
    assert plain_ratio == pytest.approx(0.1, abs=0.01)
    assert zoomed_ratio == pytest.approx(0.2, abs=0.02)
    # still centred
    assert (left + right) / 2 == pytest.approx(zoomed.width / 2, abs=3)
    assert (top + bottom) / 2 == pytest.approx(zoomed.height / 2, abs=3)
    assert zoomed.width / zoomed.height == pytest.approx(4 / 3, rel=0.01)


def test_scale_two_uses_full_resolution_when_available(tmp_path: Path) -> None:
    path = save_jpeg(tmp_path / "big.jpg", Image.new("RGB", (1600, 1200), "grey"))
    out = pipeline.render(path, Recipe(scale=2.0), long_edge=800)
    assert out.size == (800, 600)  # the crop of a large original fills the long edge


def test_scale_below_one_shrinks_the_output(tmp_path: Path) -> None:
    path = save_jpeg(tmp_path / "big.jpg", Image.new("RGB", (1600, 1200), "grey"))
    out = pipeline.render(path, Recipe(scale=0.5), long_edge=800)
    assert out.size == (400, 300)


# -- metadata -----------------------------------------------------------------------------------
def test_output_exif_drops_gps_keeps_camera_and_time(tmp_path: Path) -> None:
    source = sample("gps/DSCN0010.jpg")
    with Image.open(source) as im:
        src = im.getexif()
        assert TAG_GPS in src  # the sample really has GPS
        make, model = src[0x010F], src[0x0110]
        taken = src.get_ifd(metadata.IFD_EXIF)[TAG_DATETIME_ORIGINAL]
    web, thumb = tmp_path / "web.jpg", tmp_path / "thumb.jpg"
    pipeline.publish_files(source, Recipe(), web, thumb, long_edge=320, thumb_edge=100)
    with Image.open(web) as im:
        exif = im.getexif()
        assert TAG_GPS not in exif
        assert exif.get_ifd(TAG_GPS) == {}
        assert exif[0x010F] == make
        assert exif[0x0110] == model
        assert exif[metadata.TAG_ORIENTATION] == 1
        sub = exif.get_ifd(metadata.IFD_EXIF)
        assert sub[TAG_DATETIME_ORIGINAL] == taken
        assert TAG_MAKERNOTE not in sub  # maker notes can hold serials and locations


def test_output_of_rotated_original_is_marked_upright(tmp_path: Path) -> None:
    web, thumb = tmp_path / "web.jpg", tmp_path / "thumb.jpg"
    pipeline.publish_files(
        sample("orientation/portrait_8.jpg"), Recipe(), web, thumb, long_edge=320, thumb_edge=100
    )
    for path in (web, thumb):
        with Image.open(path) as im:
            assert im.getexif().get(metadata.TAG_ORIENTATION, 1) == 1
            assert im.height > im.width
            # what any viewer shows (after applying EXIF orientation) is still a portrait
            assert ImageOps.exif_transpose(im).height > ImageOps.exif_transpose(im).width


def test_artist_and_copyright_are_written(tmp_path: Path) -> None:
    web = tmp_path / "web.jpg"
    pipeline.publish_files(
        sample("exif-org/canon-ixus.jpg"), Recipe(), web, tmp_path / "t.jpg", long_edge=320,
        artist="Ada", copyright_="(c) Ada",
    )
    with Image.open(web) as im:
        assert im.getexif()[0x013B] == "Ada"
        assert im.getexif()[0x8298] == "(c) Ada"


# -- publish_files ------------------------------------------------------------------------------
def test_publish_files_sizes_and_encodings(tmp_path: Path) -> None:
    source = sample("exif-org/fujifilm-dx10.jpg")  # 1024×768
    web = tmp_path / "web" / "photos" / "X.jpg"
    thumb = tmp_path / "web" / "thumbs" / "X.jpg"
    rendered = pipeline.publish_files(
        source, Recipe(), web, thumb, long_edge=512, thumb_edge=160, quality=80
    )
    with Image.open(web) as im:
        assert im.format == "JPEG" and im.mode == "RGB"
        assert max(im.size) == 512
        assert im.size == (512, 384)
        assert not (im.info.get("progressive") or im.info.get("progression"))  # baseline
        assert (rendered.width, rendered.height) == im.size
    with Image.open(thumb) as im:
        assert max(im.size) == 160
        assert im.info.get("progressive") or im.info.get("progression")  # the grid's thumbnails
        assert (rendered.thumb_width, rendered.thumb_height) == im.size
    assert rendered.color.startswith("#") and len(rendered.color) == 7
    leftovers = [p for p in (tmp_path / "web").rglob(f"{TEMP_PREFIX}*")]
    assert leftovers == []
    assert oct(web.stat().st_mode & 0o777) == oct(0o644)


def test_dominant_color() -> None:
    assert pipeline.dominant_color(Image.new("RGB", (10, 10), (255, 0, 16))) == "#ff0010"


# -- bad input ----------------------------------------------------------------------------------
def test_truncated_jpeg_raises_image_error(tmp_path: Path) -> None:
    data = sample("gps/DSCN0010.jpg").read_bytes()
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated"):
        pipeline.render(broken, Recipe())
    web, thumb = tmp_path / "out" / "w.jpg", tmp_path / "out" / "t.jpg"
    with pytest.raises(ImageError):
        pipeline.publish_files(broken, Recipe(), web, thumb)
    assert not web.exists() and not thumb.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not an image\n", "not a readable image"),
        (b"", "not a readable image"),
        (None, "not a JPEG (found PNG)"),
    ],
)
def test_non_jpeg_raises_image_error(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "photo.jpg"
    if content is None:
        Image.new("RGB", (10, 10)).save(path, "PNG")
    else:
        path.write_bytes(content)
    with pytest.raises(ImageError) as excinfo:
        pipeline.render(path, Recipe())
    assert message in str(excinfo.value)
    with pytest.raises(ImageError):
        pipeline.read_exif_info(path)


def test_missing_original_raises_image_error(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="missing"):
        pipeline.render(tmp_path / "gone.jpg", Recipe())


@pytest.mark.parametrize("limit", [1000, 200_000])  # far over (error) and just over (warning)
def test_decompression_bomb_limit(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    path = sample("gps/DSCN0010.jpg")  # 640×480 = 307 200 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    with pytest.raises(ImageError, match="decompression bomb"):
        pipeline.render(path, Recipe())
    with pytest.raises(ImageError, match="decompression bomb"):
        pipeline.read_exif_info(path)


def test_jpeg_header_claiming_a_huge_size(tmp_path: Path) -> None:
    data = bytearray(_small_baseline_jpeg())
    sof = data.find(b"\xff\xc0")
    assert sof > 0
    # SOF0: marker, length (2), precision (1), height (2), width (2)
    struct.pack_into(">HH", data, sof + 5, 60000, 60000)
    path = tmp_path / "bomb.jpg"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageError, match="decompression bomb"):
        pipeline.render(path, Recipe())


def _small_baseline_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(buffer, "JPEG", progressive=False)
    return buffer.getvalue()


# -- colour -------------------------------------------------------------------------------------
def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    path = save_jpeg(tmp_path / "cmyk.jpg", Image.new("CMYK", (400, 300), (0, 255, 255, 0)))
    with Image.open(path) as im:
        assert im.mode == "CMYK"
    out = pipeline.render(path, Recipe())
    assert out.mode == "RGB"
    assert _is_red(out.getpixel((200, 150)))
    web, thumb = tmp_path / "w.jpg", tmp_path / "t.jpg"
    pipeline.publish_files(path, Recipe(), web, thumb, long_edge=320, thumb_edge=64)
    for written in (web, thumb):
        with Image.open(written) as im:
            assert im.mode == "RGB"


def test_greyscale_jpeg_becomes_rgb(tmp_path: Path) -> None:
    path = save_jpeg(tmp_path / "grey.jpg", Image.new("L", (400, 300), 128))
    out = pipeline.render(path, Recipe(exposure=0.5))
    assert out.mode == "RGB"
    r, g, b = out.getpixel((200, 150))
    assert r == g == b and r > 128
    web, thumb = tmp_path / "w.jpg", tmp_path / "t.jpg"
    pipeline.publish_files(path, Recipe(), web, thumb, long_edge=320, thumb_edge=64)
    with Image.open(web) as im:
        assert im.mode == "RGB"


def test_greyscale_jpeg_with_grey_icc_profile_is_converted(tmp_path: Path) -> None:
    icc = gray_profile(gamma=1.0, name="Linear Gray")  # linear light: 100 is a light grey
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    path = save_jpeg(
        tmp_path / "grey-icc.jpg", Image.new("L", (64, 64), 100), quality=100, icc_profile=icc
    )
    out = pipeline.render(path, Recipe())
    assert out.mode == "RGB"
    with Image.open(path) as im:
        expected = ImageCms.profileToProfile(
            im, profile, pipeline.SRGB, outputMode="RGB"
        ).getpixel((32, 32))
    r, g, b = out.getpixel((32, 32))
    assert abs(r - g) <= 1 and abs(g - b) <= 1
    assert abs(r - expected[0]) <= 2, (r, expected)
    assert r > 150  # linear 100/255 is about 170 in sRGB


def test_non_srgb_icc_profile_is_converted(tmp_path: Path) -> None:
    # Apple's "Generic RGB Profile" (gamma 1.8), as embedded in a real sample: not sRGB.
    with Image.open(sample("orientation/landscape_2.jpg")) as im:
        icc = im.info["icc_profile"]
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    assert not ImageCms.getProfileDescription(profile).lower().startswith("srgb")
    colour = (128, 64, 200)
    path = save_jpeg(
        tmp_path / "generic.jpg", Image.new("RGB", (64, 64), colour), quality=100,
        icc_profile=icc,
    )
    out = pipeline.render(path, Recipe()).getpixel((32, 32))
    with Image.open(path) as im:
        expected = ImageCms.profileToProfile(
            im, profile, pipeline.SRGB, outputMode="RGB"
        ).getpixel((32, 32))
    assert all(abs(a - b) <= 2 for a, b in zip(out, expected, strict=True)), (out, expected)
    assert sum(abs(a - b) for a, b in zip(out, colour, strict=True)) > 20  # really converted


def test_srgb_icc_profile_is_left_alone(tmp_path: Path) -> None:
    srgb = ImageCms.ImageCmsProfile(pipeline.SRGB).tobytes()
    colour = (128, 64, 200)
    path = save_jpeg(
        tmp_path / "srgb.jpg", Image.new("RGB", (64, 64), colour), quality=100, icc_profile=srgb
    )
    out = pipeline.render(path, Recipe()).getpixel((32, 32))
    assert all(abs(a - b) <= 2 for a, b in zip(out, colour, strict=True)), out


def test_broken_icc_profile_is_ignored(tmp_path: Path) -> None:
    path = save_jpeg(
        tmp_path / "bad-icc.jpg", Image.new("RGB", (64, 64), (10, 200, 30)),
        icc_profile=b"not a profile" * 20,
    )
    out = pipeline.render(path, Recipe())
    assert out.mode == "RGB"
    assert all(abs(a - b) <= 3 for a, b in zip(out.getpixel((32, 32)), (10, 200, 30), strict=True))


# -- import-time helpers ------------------------------------------------------------------------
def test_read_exif_info_and_thumbnail(tmp_path: Path) -> None:
    info = pipeline.read_exif_info(sample("orientation/landscape_6.jpg"))
    assert (info.width, info.height, info.orientation) == (600, 450, 6)
    info = pipeline.read_exif_info(sample("gps/DSCN0010.jpg"))
    assert info.capture_time == "2008-10-22T16:28:39"
    assert info.make == "NIKON"
    size = pipeline.thumbnail_from_original(
        sample("orientation/portrait_7.jpg"), tmp_path / "t.jpg", edge=100
    )
    assert max(size) == 100 and size[1] > size[0]
    with Image.open(tmp_path / "t.jpg") as im:
        assert im.size == size


def test_capture_time_with_subseconds_and_offset(tmp_path: Path) -> None:
    exif = Image.Exif()
    sub = exif.get_ifd(metadata.IFD_EXIF)
    sub[TAG_DATETIME_ORIGINAL] = "2024:06:01 18:30:05"
    sub[0x9291] = "42"  # SubSecTimeOriginal
    sub[0x9011] = "+02:00"  # OffsetTimeOriginal
    path = save_jpeg(tmp_path / "t.jpg", Image.new("RGB", (32, 32)), exif=exif.tobytes())
    assert pipeline.read_exif_info(path).capture_time == "2024-06-01T18:30:05.420+02:00"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024:06:01 18:30:05", "2024-06-01T18:30:05"),
        ("2024-06-01 18:30:05", "2024-06-01T18:30:05"),
        ("0000:00:00 00:00:00", None),  # camera clock never set
        ("2024:13:01 18:30:05", None),
        ("2024:06:01 25:30:05", None),
        ("    :  :     :  :  ", None),
        ("2024:06:01", None),
    ],
)
def test_capture_time_must_be_a_real_date(tmp_path: Path, raw: str, expected: str | None) -> None:
    exif = Image.Exif()
    exif.get_ifd(metadata.IFD_EXIF)[TAG_DATETIME_ORIGINAL] = raw
    path = save_jpeg(tmp_path / "t.jpg", Image.new("RGB", (32, 32)), exif=exif.tobytes())
    assert pipeline.read_exif_info(path).capture_time == expected


def test_the_web_jpeg_is_baseline_with_optimised_tables_and_loses_nothing() -> None:
    """Baseline, not progressive (a quarter of the encode and a third of the guests' decode), with
    Huffman tables optimised for the photo: the very pixels a progressive encode gives, in a file
    smaller than one with the standard tables."""
    out = pipeline.render(sample("gps/DSCN0010.jpg"), Recipe(exposure=0.3), 640)
    web = pipeline.jpeg_bytes(out, 85)
    with Image.open(io.BytesIO(web)) as im:
        assert im.format == "JPEG" and not (im.info.get("progressive") or im.info.get("progression"))
        pixels = im.convert("RGB").tobytes()
    progressive = io.BytesIO()
    out.save(progressive, "JPEG", quality=85, progressive=True, subsampling="4:2:0")
    standard = io.BytesIO()
    out.save(standard, "JPEG", quality=85, subsampling="4:2:0")
    assert Image.open(progressive).convert("RGB").tobytes() == pixels
    assert len(web) < len(standard.getvalue())
