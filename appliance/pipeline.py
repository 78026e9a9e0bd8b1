"""The one image pipeline: a buffered original plus an edit recipe in, web JPEG and thumbnail out.

Order of operations is chosen for a Pi: JPEG draft decoding (DCT scaling) and an early resize
mean the edits run on a few megapixels, never on the full 24–45 MP frame.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageCms

from .fsutil import atomic_save

SRGB = ImageCms.createProfile("sRGB")

# EXIF tags kept in published files (GPS and every other location tag are dropped).
TAG_MAKE, TAG_MODEL, TAG_DATETIME, TAG_ARTIST, TAG_COPYRIGHT = 0x010F, 0x0110, 0x0132, 0x013B, 0x8298
TAG_ORIENTATION = 0x0112
IFD_EXIF = 0x8769
EXIF_KEEP = (0x9003, 0x9004, 0x9010, 0x9011, 0x9290, 0x9291, 0x829A, 0x829D, 0x8827, 0x920A)


class RecipeError(ValueError):
    """An edit recipe is malformed or out of range."""


class ImageError(ValueError):
    """An original cannot be processed (corrupt, truncated, too large, not a JPEG...)."""


@dataclass(frozen=True)
class Recipe:
    """Edits applied on publish: exposure (EV), rotation, straighten (degrees), scale (zoom)."""

    exposure: float = 0.0
    rotate: int = 0
    straighten: float = 0.0
    scale: float = 1.0

    LIMITS = {"exposure": (-2.0, 2.0), "straighten": (-10.0, 10.0), "scale": (0.5, 2.0)}

    @classmethod
    def parse(cls, raw: dict[str, Any] | None) -> Recipe:
        """Validate a recipe from JSON or CLI flags; unknown keys and bad values raise."""
        raw = dict(raw or {})
        unknown = set(raw) - {"exposure", "rotate", "straighten", "scale"}
        if unknown:
            raise RecipeError(f"unknown edit {sorted(unknown)[0]!r}")
        values: dict[str, Any] = {}
        for key, (low, high) in cls.LIMITS.items():
            if key in raw and raw[key] is not None:
                value = raw[key]
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise RecipeError(f"{key} must be a number, got {value!r}")
                if not math.isfinite(value) or not low <= value <= high:
                    raise RecipeError(f"{key} must be between {low:g} and {high:g}, got {value!r}")
                values[key] = float(value)
        if raw.get("rotate") is not None:
            rotate = raw["rotate"]
            if isinstance(rotate, bool) or rotate not in (0, 90, 180, 270, -90):
                raise RecipeError(f"rotate must be 0, 90, 180 or 270, got {rotate!r}")
            values["rotate"] = int(rotate) % 360
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Rendered:
    """What a publish produced, as recorded in the store and manifest."""

    width: int
    height: int
    thumb_width: int
    thumb_height: int
    color: str


@dataclass(frozen=True)
class ExifInfo:
    """Metadata read from an original at import time."""

    width: int
    height: int
    orientation: int
    capture_time: str | None
    make: str | None
    model: str | None


def _open(path: Path) -> Image.Image:
    """Open a JPEG, turning every kind of bad input into an :class:`ImageError`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
    except FileNotFoundError as exc:
        raise ImageError(f"original missing from the buffer: {path.name}") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"image too large (decompression bomb): {exc}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"not a readable image: {exc}") from exc
    if image.format != "JPEG":
        image.close()
        raise ImageError(f"not a JPEG (found {image.format})")
    return image


def _load(image: Image.Image) -> None:
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"corrupt or truncated JPEG: {exc}") from exc


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert to 8-bit RGB in sRGB, honouring an embedded ICC profile (RGB, CMYK or grey)."""
    icc = image.info.get("icc_profile")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            desc = ImageCms.getProfileDescription(source).strip().lower()
            if not (image.mode == "RGB" and desc.startswith("srgb")):
                return ImageCms.profileToProfile(
                    image, source, SRGB, outputMode="RGB", renderingIntent=0
                )
        except (ImageCms.PyCMSError, OSError):
            pass  # a broken profile is ignored rather than failing the photo
    return image if image.mode == "RGB" else image.convert("RGB")


def _largest_rotated_rect(w: float, h: float, angle_rad: float) -> tuple[float, float]:
    """Size of the largest axis-aligned rectangle inside a w×h rectangle rotated by angle."""
    if w <= 0 or h <= 0:
        return 0, 0
    wide = w >= h
    side_long, side_short = (w, h) if wide else (h, w)
    sin_a, cos_a = abs(math.sin(angle_rad)), abs(math.cos(angle_rad))
    if side_short <= 2 * sin_a * cos_a * side_long or abs(sin_a - cos_a) < 1e-10:
        x = 0.5 * side_short
        wr, hr = (x / sin_a, x / cos_a) if wide else (x / cos_a, x / sin_a)
    else:
        cos_2a = cos_a * cos_a - sin_a * sin_a
        wr = (w * cos_a - h * sin_a) / cos_2a
        hr = (h * cos_a - w * sin_a) / cos_2a
    return wr, hr


def _center_crop(image: Image.Image, width: float, height: float) -> Image.Image:
    w, h = image.size
    left = (w - width) / 2
    top = (h - height) / 2
    return image.crop((round(left), round(top), round(left + width), round(top + height)))


_ORIENT = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


def upright(image: Image.Image, orientation: int) -> Image.Image:
    """Apply an EXIF orientation (1–8) to the pixels."""
    for method in _ORIENT.get(orientation, ()):
        image = image.transpose(method)
    return image


_ROTATE = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
           270: Image.Transpose.ROTATE_90}  # recipe rotation is clockwise


def _exposure_lut(ev: float) -> list[int]:
    """A per-channel LUT applying ``ev`` stops in linear light (sRGB-ish gamma 2.2)."""
    gain = 2.0**ev
    table = [min(255, round(255 * min(1.0, (i / 255) ** 2.2 * gain) ** (1 / 2.2))) for i in range(256)]
    return table * 3


def render(
    source: Path,
    recipe: Recipe,
    long_edge: int = 2048,
    watermark: Image.Image | None = None,
) -> Image.Image:
    """Decode, orient, colour-manage and edit ``source``; return an RGB image ≤ ``long_edge``."""
    image = _open(source)
    with image:
        exif = image.getexif()
        orientation = exif.get(TAG_ORIENTATION, 1)
        straighten = math.radians(recipe.straighten)
        zoom = max(recipe.scale, 1.0)
        # How much resolution the final crop needs from the decoded frame.
        margin = (abs(math.cos(straighten)) + abs(math.sin(straighten))) ** 2 if straighten else 1
        need = math.ceil(long_edge * zoom * margin)
        w, h = image.size
        scale_down = need / max(w, h)
        if scale_down < 1 and image.mode in ("RGB", "L", "CMYK", "YCbCr"):
            image.draft(image.mode, (math.ceil(w * scale_down), math.ceil(h * scale_down)))
        _load(image)
        image = _to_srgb(image)
        image = upright(image, orientation)
        if recipe.rotate:
            image = image.transpose(_ROTATE[recipe.rotate])
        # Resize before editing: everything after this runs on ~ the output size.
        if max(image.size) > need:
            factor = need / max(image.size)
            size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
            image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
        if straighten:
            w, h = image.size
            rotated = image.rotate(-recipe.straighten, Image.Resampling.BICUBIC, expand=False)
            cw, ch = _largest_rotated_rect(w, h, straighten)
            image = _center_crop(rotated, math.floor(cw), math.floor(ch))
        if recipe.scale > 1:
            w, h = image.size
            image = _center_crop(image, w / recipe.scale, h / recipe.scale)
        target = long_edge * min(recipe.scale, 1.0)
        if max(image.size) > target:
            factor = target / max(image.size)
            size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
            image = image.resize(size, Image.Resampling.LANCZOS)
        if recipe.exposure:
            image = image.point(_exposure_lut(recipe.exposure))
        if watermark is not None:
            image = apply_watermark(image, watermark)
        return image


def apply_watermark(image: Image.Image, mark: Image.Image, rel_width: float = 0.25) -> Image.Image:
    """Composite an RGBA mark in the bottom-right corner, sized relative to the short edge."""
    short = min(image.size)
    width = max(1, round(short * rel_width))
    height = max(1, round(mark.height * width / mark.width))
    scaled = mark.resize((width, height), Image.Resampling.LANCZOS)
    margin = round(short * 0.03)
    out = image.copy()
    out.paste(scaled, (out.width - width - margin, out.height - height - margin), scaled)
    return out


def output_exif(source: Path, artist: str = "", copyright_: str = "") -> bytes:
    """EXIF for a published file: capture time and camera kept, location dropped, upright."""
    with Image.open(source) as original:
        src = original.getexif()
        src_exif_ifd = src.get_ifd(IFD_EXIF)
    out = Image.Exif()
    for tag in (TAG_MAKE, TAG_MODEL, TAG_DATETIME):
        if tag in src:
            out[tag] = src[tag]
    if artist:
        out[TAG_ARTIST] = artist
    if copyright_:
        out[TAG_COPYRIGHT] = copyright_
    out[TAG_ORIENTATION] = 1
    kept = {tag: src_exif_ifd[tag] for tag in EXIF_KEEP if tag in src_exif_ifd}
    if kept:
        ifd = out.get_ifd(IFD_EXIF)
        ifd.update(kept)
    return out.tobytes()


def save_jpeg(image: Image.Image, path: Path, quality: int = 85, exif: bytes = b"") -> None:
    """Atomically save a progressive, optimised web JPEG."""
    atomic_save(
        path,
        lambda handle: image.save(
            handle, "JPEG", quality=quality, progressive=True, optimize=True, exif=exif,
            subsampling="4:2:0",
        ),
    )


def make_thumbnail(image: Image.Image, edge: int) -> Image.Image:
    thumb = image.copy()
    thumb.thumbnail((edge, edge), Image.Resampling.LANCZOS)
    return thumb


def dominant_color(image: Image.Image) -> str:
    """A placeholder colour for the gallery: the image's average colour."""
    r, g, b = image.convert("RGB").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    return f"#{r:02x}{g:02x}{b:02x}"


def publish_files(
    source: Path,
    recipe: Recipe,
    web_path: Path,
    thumb_path: Path,
    long_edge: int = 2048,
    thumb_edge: int = 480,
    quality: int = 85,
    watermark: Image.Image | None = None,
    artist: str = "",
    copyright_: str = "",
) -> Rendered:
    """Render ``source`` and atomically write its web JPEG and thumbnail."""
    image = render(source, recipe, long_edge, watermark)
    exif = output_exif(source, artist, copyright_)
    thumb = make_thumbnail(image, thumb_edge)
    save_jpeg(image, web_path, quality, exif)
    try:
        save_jpeg(thumb, thumb_path, quality=80)
    except BaseException:
        web_path.unlink(missing_ok=True)
        raise
    return Rendered(image.width, image.height, thumb.width, thumb.height, dominant_color(thumb))


def read_exif_info(path: Path) -> ExifInfo:
    """Pixel size (as displayed), orientation, capture time and camera of an original."""
    image = _open(path)
    with image:
        exif = image.getexif()
        sub = exif.get_ifd(IFD_EXIF)
        orientation = int(exif.get(TAG_ORIENTATION, 1) or 1)
        w, h = image.size
        if orientation in (5, 6, 7, 8):
            w, h = h, w
        return ExifInfo(
            width=w,
            height=h,
            orientation=orientation if 1 <= orientation <= 8 else 1,
            capture_time=_capture_time(sub, exif),
            make=_text(exif.get(TAG_MAKE)),
            model=_text(exif.get(TAG_MODEL)),
        )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = str(value).strip("\x00 ").strip()
    return value or None


def _capture_time(sub: dict[int, Any], base: Any) -> str | None:
    """EXIF DateTimeOriginal (+ sub-seconds, + offset) as ISO 8601, or None."""
    raw = _text(sub.get(0x9003)) or _text(base.get(TAG_DATETIME))
    if not raw or len(raw) < 19:
        return None
    date, clock = raw[:10].replace(":", "-"), raw[11:19]
    try:  # a real date: cameras with a flat clock battery write "0000:00:00 00:00:00"
        datetime.strptime(f"{date}T{clock}", "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    iso = f"{date}T{clock}"
    subsec = _text(sub.get(0x9291))
    if subsec and subsec.isdigit():
        iso += f".{subsec[:3].ljust(3, '0')}"
    offset = _text(sub.get(0x9011))
    if offset and len(offset) == 6 and offset[0] in "+-":
        iso += offset
    return iso


def thumbnail_from_original(path: Path, dest: Path, edge: int = 400) -> tuple[int, int]:
    """Admin-grid thumbnail straight from an original, decoding at reduced size (draft mode)."""
    image = _open(path)
    with image:
        image.draft("RGB", (edge, edge))
        orientation = int(image.getexif().get(TAG_ORIENTATION, 1) or 1)
        _load(image)
        rgb = upright(_to_srgb(image), orientation)
        rgb.thumbnail((edge, edge), Image.Resampling.BILINEAR)
        save_jpeg(rgb, dest, quality=78)
        return rgb.size
