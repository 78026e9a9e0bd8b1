"""The one image pipeline: a buffered original plus an edit recipe in, web JPEG and thumbnail out.

Used by the publisher, the admin preview, the button and the importer's grid thumbnails.

Order of operations is chosen for a Pi. The whole edit (orientation, rotation, straighten, zoom,
output size) is first planned as geometry on the original's size; then the JPEG is decoded with DCT
scaling (``draft``) at the smallest scale that still has enough pixels, only the region the output
needs is resampled once to about the output size, and everything after that (colour conversion,
transposes, straighten, exposure, watermark) runs on ~3 MP, never on the full 24–45 MP frame.
"""

from __future__ import annotations

import io
import math
import os
import struct
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from PIL import Image, ImageCms

from .fsutil import atomic_save, atomic_write_bytes

SRGB = ImageCms.createProfile("sRGB")

# EXIF tags kept in published files (GPS and every other location tag are dropped).
TAG_MAKE, TAG_MODEL, TAG_DATETIME, TAG_ARTIST, TAG_COPYRIGHT = 0x010F, 0x0110, 0x0132, 0x013B, 0x8298
TAG_ORIENTATION = 0x0112
IFD_EXIF = 0x8769
# DateTimeOriginal/Digitized, offsets, sub-seconds, exposure time, f-number, ISO, focal length,
# focal length in 35 mm, lens make and model.
EXIF_KEEP = (0x9003, 0x9004, 0x9010, 0x9011, 0x9012, 0x9290, 0x9291, 0x9292, 0x829A, 0x829D,
             0x8827, 0x920A, 0xA405, 0xA433, 0xA434)
JPEG_FORMATS = ("JPEG", "MPO")  # MPO: cameras that embed a preview (Multi-Picture Format)
THUMB_QUALITY = 80
# Straighten: keep the resampling kernel this many output pixels away from the frame's edge.
EDGE_INSET_PX = 3
# Decode at a DCT scale that may leave the output up to this much short of pixels (upsampled by
# the resize): a 45 MP frame straightened by 2° then decodes at 1/4 instead of 1/2, four times less.
DRAFT_SLACK = 1.0
# Pillow releases the GIL while resampling and encoding: the Pi's four cores can share the work.
THREADS = max(1, min(4, os.cpu_count() or 1))


class RecipeError(ValueError):
    """An edit recipe is malformed or out of range."""


class ImageError(ValueError):
    """An original cannot be processed (corrupt, truncated, too large, not a JPEG...)."""


@dataclass(frozen=True)
class Recipe:
    """Edits applied on publish.

    ``exposure`` in EV (−2…+2), ``rotate`` clockwise (0/90/180/270), ``straighten`` in degrees
    (−10…+10, positive turns the picture clockwise; cropped so no empty corner shows), ``scale``
    0.5…2: above 1 zooms into the centre, below 1 publishes a smaller image.
    """

    exposure: float = 0.0
    rotate: int = 0
    straighten: float = 0.0
    scale: float = 1.0

    LIMITS = {"exposure": (-2.0, 2.0), "straighten": (-10.0, 10.0), "scale": (0.5, 2.0)}

    @classmethod
    def parse(cls, raw: dict[str, Any] | Recipe | None) -> Recipe:
        """Validate a recipe from JSON or CLI flags; unknown keys and bad values raise."""
        if isinstance(raw, Recipe):
            return raw
        if raw is not None and not isinstance(raw, dict):
            raise RecipeError(f"recipe must be an object, got {type(raw).__name__}")
        raw = dict(raw or {})
        unknown = set(raw) - {"exposure", "rotate", "straighten", "scale"}
        if unknown:
            raise RecipeError(f"unknown edit {sorted(unknown, key=str)[0]!r}")
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
            if isinstance(rotate, bool) or not isinstance(rotate, int | float) or rotate not in (
                0, 90, 180, 270, -90
            ):
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
    webp: bool = False
    placeholder: str = ""


@dataclass(frozen=True)
class ExifInfo:
    """Metadata read from an original at import time."""

    width: int
    height: int
    orientation: int
    capture_time: str | None
    make: str | None
    model: str | None


@dataclass(frozen=True)
class Encoded:
    """A rendered photo encoded in memory, ready to be written: nothing touches disk before."""

    web: bytes
    thumb: bytes
    webp: bytes | None
    rendered: Rendered


class Mark(Protocol):
    """A watermark that composites itself onto a rendered image (see :mod:`appliance.watermark`)."""

    def apply(self, image: Image.Image) -> Image.Image: ...


# -- opening -------------------------------------------------------------------------------------
def _open(path: Path) -> Image.Image:
    """Open a JPEG, turning every kind of bad input into an :class:`ImageError`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
    except FileNotFoundError as exc:
        raise ImageError(f"original missing from the buffer: {path.name}") from exc
    except IsADirectoryError as exc:
        raise ImageError(f"not a file: {path.name}") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(
            f"image too large (decompression bomb, limit {Image.MAX_IMAGE_PIXELS:,} pixels): {exc}"
        ) from exc
    except Image.UnidentifiedImageError as exc:
        raise ImageError(f"not a readable image: {path.name} is not an image file") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"not a readable image: {exc}") from exc
    if image.format not in JPEG_FORMATS:
        image.close()
        raise ImageError(f"not a JPEG (found {image.format})")
    return image


def _load(image: Image.Image) -> None:
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, MemoryError) as exc:
        raise ImageError(f"JPEG data truncated or corrupt: {exc}") from exc


def _orientation(exif: Image.Exif) -> int:
    try:
        value = int(exif.get(TAG_ORIENTATION, 1) or 1)
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


# -- colour ---------------------------------------------------------------------------------------
@lru_cache(maxsize=16)
def _srgb_transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A cached transform from an embedded profile to sRGB; None when none is needed or possible."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = ImageCms.getProfileDescription(source).strip().lower()
        if mode == "RGB" and description.startswith("srgb"):
            return None
        return ImageCms.buildTransform(source, SRGB, mode, "RGB", renderingIntent=0)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None  # a broken profile is ignored rather than failing the photo


def to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """8-bit RGB in sRGB, honouring an embedded ICC profile (RGB, CMYK or grey)."""
    if icc and image.mode in ("RGB", "CMYK", "L"):
        transform = _srgb_transform(icc, image.mode)
        if transform is not None:
            return ImageCms.applyTransform(image, transform)
    return image if image.mode == "RGB" else image.convert("RGB")


_to_srgb = to_srgb  # name used by the walking skeleton


@lru_cache(maxsize=64)
def _exposure_lut(ev: float) -> list[int]:
    """A per-channel LUT applying ``ev`` stops in linear light (sRGB transfer curve)."""
    gain = 2.0**ev

    def to_linear(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    def to_srgb_value(v: float) -> float:
        return v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055

    table = [round(255 * to_srgb_value(min(1.0, to_linear(i / 255) * gain))) for i in range(256)]
    return table * 3


# -- geometry -------------------------------------------------------------------------------------
_T = Image.Transpose
_ORIENT: dict[int, tuple[Image.Transpose, ...]] = {
    2: (_T.FLIP_LEFT_RIGHT,), 3: (_T.ROTATE_180,), 4: (_T.FLIP_TOP_BOTTOM,), 5: (_T.TRANSPOSE,),
    6: (_T.ROTATE_270,), 7: (_T.TRANSVERSE,), 8: (_T.ROTATE_90,),
}
_ROTATE = {90: _T.ROTATE_270, 180: _T.ROTATE_180, 270: _T.ROTATE_90}  # recipe rotation is clockwise
_SWAPS_AXES = {_T.ROTATE_90, _T.ROTATE_270, _T.TRANSPOSE, _T.TRANSVERSE}


def _compose_table() -> dict[tuple[int, int], Image.Transpose | None]:
    """EXIF orientation followed by a clockwise rotation, as one transpose (found by probing)."""
    probe = Image.frombytes("L", (3, 2), bytes(range(6)))
    candidates = {None: probe, **{t: probe.transpose(t) for t in _T}}
    table: dict[tuple[int, int], Image.Transpose | None] = {}
    for orientation in range(1, 9):
        for rotate in (0, 90, 180, 270):
            moved = probe
            for method in _ORIENT.get(orientation, ()):
                moved = moved.transpose(method)
            if rotate:
                moved = moved.transpose(_ROTATE[rotate])
            table[orientation, rotate] = next(
                t for t, img in candidates.items()
                if img.size == moved.size and img.tobytes() == moved.tobytes()
            )
    return table


_COMPOSED = _compose_table()


def upright(image: Image.Image, orientation: int) -> Image.Image:
    """Apply an EXIF orientation (1–8) to the pixels."""
    method = _COMPOSED.get((orientation, 0))
    return image if method is None else image.transpose(method)


def straighten_crop_factor(width: float, height: float, degrees: float) -> float:
    """Largest k such that a centred k·w × k·h rectangle, turned by ``degrees``, fits in w × h."""
    c, s = abs(math.cos(math.radians(degrees))), abs(math.sin(math.radians(degrees)))
    return min(width / (width * c + height * s), height / (width * s + height * c))


@dataclass(frozen=True)
class Plan:
    """Where the output comes from, in full-resolution pixels of the original."""

    transpose: Image.Transpose | None
    stored: tuple[int, int]  # the original as stored (before EXIF orientation)
    region: tuple[float, float]  # the output's region, displayed orientation, before straighten
    crop: float  # the region's share of the frame's width and height (straighten crop / zoom)
    box: tuple[float, float]  # what must be resampled: region's bounding box (+ kernel margin)
    output: tuple[int, int]
    factor: float  # output pixels per original pixel (≤ 1)
    straighten: float

    @property
    def swaps(self) -> bool:
        return self.transpose in _SWAPS_AXES


def plan(stored: tuple[int, int], orientation: int, recipe: Recipe, long_edge: int) -> Plan:
    """Plan the whole edit as geometry on the original's size (nothing is decoded yet)."""
    transpose = _COMPOSED[orientation, recipe.rotate]
    width, height = stored
    if transpose in _SWAPS_AXES:
        width, height = height, width
    zoom = max(recipe.scale, 1.0)
    target = long_edge * min(recipe.scale, 1.0)
    k = 1.0 / zoom
    if recipe.straighten:
        k *= straighten_crop_factor(width, height, recipe.straighten)
        # Keep the resampling kernel a few output pixels inside the frame: no dark corner pixel.
        out_short = min(width, height) * k * min(1.0, target / (max(width, height) * k))
        k *= max(0.5, 1 - 2 * EDGE_INSET_PX / max(1.0, out_short))
    rw, rh = width * k, height * k
    factor = min(1.0, target / max(rw, rh))  # never upscale
    out_w, out_h = max(1, round(rw * factor)), max(1, round(rh * factor))
    if recipe.straighten:
        c, s = abs(math.cos(math.radians(recipe.straighten))), abs(math.sin(math.radians(recipe.straighten)))
        margin = 2 * (EDGE_INSET_PX + 1) / factor
        bw, bh = min(width, rw * c + rh * s + margin), min(height, rw * s + rh * c + margin)
    else:
        bw, bh = rw, rh
    return Plan(transpose, stored, (rw, rh), k, (bw, bh), (out_w, out_h), factor, recipe.straighten)


def _resample(image: Image.Image, p: Plan) -> Image.Image:
    """Crop the plan's box out of the decoded frame and resample it to ~output size, in one pass."""
    full_w, full_h = p.stored
    box_w, box_h = (p.box[1], p.box[0]) if p.swaps else p.box
    sx, sy = image.width / full_w, image.height / full_h  # decoded pixels per original pixel
    left, top = (full_w - box_w) / 2 * sx, (full_h - box_h) / 2 * sy
    box = (left, top, left + box_w * sx, top + box_h * sy)
    if p.straighten:
        size = (max(1, round(box_w * p.factor)), max(1, round(box_h * p.factor)))
    else:
        size = (p.output[1], p.output[0]) if p.swaps else p.output
    if size == image.size and box == (0, 0, image.width, image.height):
        return image
    return image.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)


def _straighten(image: Image.Image, p: Plan) -> Image.Image:
    """Turn by ``p.straighten`` degrees clockwise and cut the output out, in one bicubic pass."""
    out_w, out_h = p.output
    gx = image.width / (p.box[0] * p.factor)  # source pixels per output pixel (≈ 1)
    gy = image.height / (p.box[1] * p.factor)
    a = math.radians(p.straighten)
    cos_a, sin_a = math.cos(a), math.sin(a)
    # Output (x, y) relative to its centre, turned, lands relative to the source's centre.
    m = (gx * cos_a, gx * sin_a, 0.0, -gy * sin_a, gy * cos_a, 0.0)
    cx, cy = out_w / 2, out_h / 2
    data = (m[0], m[1], image.width / 2 - m[0] * cx - m[1] * cy,
            m[3], m[4], image.height / 2 - m[3] * cx - m[4] * cy)
    return parallel_affine(image, (out_w, out_h), data, Image.Resampling.BICUBIC)


_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """A process-wide worker pool (made again after a fork, e.g. in gunicorn workers)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(THREADS, thread_name_prefix="pipeline"))
        return _pool[1]


def parallel_affine(
    image: Image.Image, size: tuple[int, int], data: tuple[float, ...],
    resample: Image.Resampling, parts: int | None = None,
) -> Image.Image:
    """``image.transform(size, AFFINE, data)`` computed in horizontal bands on several cores.

    Every output pixel depends only on its own coordinates, so the bands are exactly the pixels
    one call would produce.
    """
    parts = THREADS if parts is None else parts
    width, height = size
    if parts <= 1 or height < 64 * parts:
        return image.transform(size, Image.Transform.AFFINE, data, resample)
    a, b, c, d, e, f = data
    edges = [round(height * i / parts) for i in range(parts + 1)]

    def band(top: int, bottom: int) -> Image.Image:
        shifted = (a, b, c + b * top, d, e, f + e * top)  # output row ``top`` becomes row 0
        return image.transform((width, bottom - top), Image.Transform.AFFINE, shifted, resample)

    futures = [_executor().submit(band, edges[i], edges[i + 1]) for i in range(parts)]
    out = Image.new(image.mode, size)
    for top, future in zip(edges, futures, strict=False):
        out.paste(future.result(), (0, top))
    return out


# -- rendering ------------------------------------------------------------------------------------
def render_image(
    image: Image.Image, recipe: Recipe, long_edge: int = 2048,
    watermark: Mark | Image.Image | None = None,
) -> Image.Image:
    """Run the pipeline on an opened (not yet loaded) JPEG; returns sRGB RGB pixels."""
    exif = image.getexif()
    p = plan(image.size, _orientation(exif), recipe, long_edge)
    # Decode at the smallest DCT scale that still gives at least the output's pixel density.
    want = (math.ceil(image.width * p.factor / DRAFT_SLACK), math.ceil(image.height * p.factor / DRAFT_SLACK))
    if p.factor * DRAFT_SLACK < 1 and image.mode in ("RGB", "L", "CMYK", "YCbCr"):
        image.draft(image.mode, want)
    _load(image)
    icc = image.info.get("icc_profile")
    out = _resample(image, p)
    if out is not image:
        image.close()  # free the decoded frame now: up to 45 MB less at the peak on a 512 MB Pi
    out = to_srgb(out, icc)
    if p.transpose is not None:
        out = out.transpose(p.transpose)
    if p.straighten:
        out = _straighten(out, p)
    if recipe.exposure:
        out = out.point(_exposure_lut(recipe.exposure))
    if watermark is not None:
        out = apply_watermark(out, watermark) if isinstance(watermark, Image.Image) else watermark.apply(out)
    out.info = {}  # never carry the original's comment, profile or XMP into an output
    return out


def render(
    source: Path, recipe: Recipe, long_edge: int = 2048, watermark: Mark | Image.Image | None = None,
) -> Image.Image:
    """Decode, orient, colour-manage and edit ``source``; return an RGB image ≤ ``long_edge``."""
    image = _open(source)
    with image:
        return render_image(image, Recipe.parse(recipe), long_edge, watermark)


def apply_watermark(image: Image.Image, mark: Image.Image, rel_width: float = 0.25) -> Image.Image:
    """Composite an RGBA mark in the bottom-right corner, sized relative to the short edge."""
    short = min(image.size)
    width = max(1, round(short * rel_width))
    height = max(1, round(mark.height * width / mark.width))
    scaled = mark.convert("RGBA").resize((width, height), Image.Resampling.LANCZOS)
    margin = round(short * 0.03)
    out = image.copy()
    out.paste(scaled, (out.width - width - margin, out.height - height - margin), scaled)
    return out


# -- metadata -------------------------------------------------------------------------------------
def exif_for_output(src: Image.Exif, artist: str = "", copyright_: str = "") -> bytes:
    """EXIF for a published file: capture time, camera and exposure kept; location dropped; upright.

    Artist and copyright come from the settings; when those are empty the camera's own are kept.
    """
    out = Image.Exif()
    for tag in (TAG_MAKE, TAG_MODEL, TAG_DATETIME, TAG_ARTIST, TAG_COPYRIGHT):
        if tag in src and isinstance(src[tag], str | bytes):
            out[tag] = src[tag]
    for tag, text in ((TAG_ARTIST, artist), (TAG_COPYRIGHT, copyright_)):
        if text:  # UTF-8 in the ASCII-typed tags, as exiftool and Lightroom write "©"
            out[tag] = text if text.isascii() else text.encode("utf-8")
    out[TAG_ORIENTATION] = 1
    try:
        src_ifd = src.get_ifd(IFD_EXIF)
    except (KeyError, ValueError, TypeError, OSError):
        src_ifd = {}
    kept = {tag: src_ifd[tag] for tag in EXIF_KEEP if tag in src_ifd}
    if kept:
        out.get_ifd(IFD_EXIF).update(kept)
    try:
        return out.tobytes()
    except (ValueError, TypeError, OSError, struct.error):
        base = Image.Exif()  # an odd camera value that cannot be written again: keep the essentials
        base[TAG_ORIENTATION] = 1
        for tag in (TAG_ARTIST, TAG_COPYRIGHT):
            if tag in out:
                base[tag] = out[tag]
        return base.tobytes()


def output_exif(source: Path, artist: str = "", copyright_: str = "") -> bytes:
    """EXIF for a published file, read from ``source`` (see :func:`exif_for_output`)."""
    image = _open(source)
    with image:
        return exif_for_output(image.getexif(), artist, copyright_)


# -- encoding -------------------------------------------------------------------------------------
def jpeg_bytes(image: Image.Image, quality: int = 85, exif: bytes = b"") -> bytes:
    """A progressive, optimised baseline-compatible web JPEG (4:2:0)."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, progressive=True, optimize=True, exif=exif,
               subsampling="4:2:0")
    return buffer.getvalue()


def thumb_jpeg_bytes(image: Image.Image, quality: int = THUMB_QUALITY) -> bytes:
    """A thumbnail or preview JPEG: progressive like the web image (2 ms at 480 px)."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, progressive=True, optimize=True)
    return buffer.getvalue()


def webp_bytes(image: Image.Image, quality: int = 80, exif: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=quality, method=4, exif=exif)
    return buffer.getvalue()


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
    """A thumbnail made from the (already small) web image: long edge ``edge``, never upscaled."""
    factor = min(1.0, edge / max(image.size))
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    if size == image.size:
        return image.copy()
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def dominant_color(image: Image.Image) -> str:
    """A placeholder colour for the gallery: the most common of a few representative colours."""
    small = image.convert("RGB").resize((32, 32), Image.Resampling.BOX)
    palette_image = small.quantize(colors=4, method=Image.Quantize.MEDIANCUT)
    counts = sorted(palette_image.getcolors() or [(1, 0)], reverse=True)
    palette = palette_image.getpalette() or [128, 128, 128]
    index = counts[0][1] * 3
    r, g, b = palette[index:index + 3]
    return f"#{r:02x}{g:02x}{b:02x}"


def placeholder(image: Image.Image) -> str:
    """A 3×3 grid of the image's colours, row by row, 12-bit each: 27 hex digits.

    Each group of three digits is a CSS ``#rgb`` colour, so the gallery can paint a blurred preview
    of the photo's layout before any image loads, at 27 bytes per photo in the manifest.
    """
    cells = image.convert("RGB").resize((3, 3), Image.Resampling.BOX).tobytes()
    return "".join(f"{min(15, (v + 8) // 17):x}" for v in cells)


def encode(
    image: Image.Image, exif: bytes, thumb_edge: int = 480, quality: int = 85,
    webp_quality: int | None = None,
) -> Encoded:
    """Encode the web JPEG, its thumbnail (made from the web image) and an optional WebP."""
    webp_job = _executor().submit(webp_bytes, image, webp_quality, exif) if webp_quality else None
    thumb = make_thumbnail(image, thumb_edge)
    web = jpeg_bytes(image, quality, exif)
    thumb_data = thumb_jpeg_bytes(thumb)
    webp = webp_job.result() if webp_job is not None else None
    rendered = Rendered(image.width, image.height, thumb.width, thumb.height, dominant_color(thumb),
                        webp is not None, placeholder(thumb))
    return Encoded(web, thumb_data, webp, rendered)


def render_encoded(
    source: Path, recipe: Recipe, long_edge: int = 2048, thumb_edge: int = 480, quality: int = 85,
    watermark: Mark | Image.Image | None = None, artist: str = "", copyright_: str = "",
    webp_quality: int | None = None,
) -> Encoded:
    """Render and encode ``source`` entirely in memory (what a publish writes, before writing)."""
    image = _open(source)
    with image:
        exif = exif_for_output(image.getexif(), artist, copyright_)
        rendered = render_image(image, Recipe.parse(recipe), long_edge, watermark)
    return encode(rendered, exif, thumb_edge, quality, webp_quality)


def write_all(files: list[tuple[Path, bytes]], write: Callable[[Path, bytes], None] = atomic_write_bytes
              ) -> None:
    """Write every file atomically, or none: on an error the ones already written are removed."""
    written: list[Path] = []
    try:
        for path, data in files:
            write(path, data)
            written.append(path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def publish_files(
    source: Path,
    recipe: Recipe,
    web_path: Path,
    thumb_path: Path,
    long_edge: int = 2048,
    thumb_edge: int = 480,
    quality: int = 85,
    watermark: Mark | Image.Image | None = None,
    artist: str = "",
    copyright_: str = "",
    webp_path: Path | None = None,
    webp_quality: int = 80,
) -> Rendered:
    """Render ``source`` and atomically write its web JPEG, thumbnail and optional WebP."""
    encoded = render_encoded(source, recipe, long_edge, thumb_edge, quality, watermark, artist,
                             copyright_, webp_quality if webp_path else None)
    files = [(web_path, encoded.web), (thumb_path, encoded.thumb)]
    if webp_path is not None and encoded.webp is not None:
        files.append((webp_path, encoded.webp))
    write_all(files)
    return encoded.rendered


# -- import-time helpers ----------------------------------------------------------------------------
def read_exif_info(path: Path) -> ExifInfo:
    """Pixel size (as displayed), orientation, capture time and camera of an original."""
    image = _open(path)
    with image:
        exif = image.getexif()
        try:
            sub = exif.get_ifd(IFD_EXIF)
        except (KeyError, ValueError, TypeError, OSError):
            sub = {}
        orientation = _orientation(exif)
        w, h = image.size
        if orientation in (5, 6, 7, 8):
            w, h = h, w
        return ExifInfo(
            width=w,
            height=h,
            orientation=orientation,
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
    try:  # a real date and time (a camera whose clock was never set writes 0000:00:00)
        moment = datetime.strptime(raw[:10].replace("-", ":") + " " + raw[11:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    iso = moment.strftime("%Y-%m-%dT%H:%M:%S")
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
        image.draft(image.mode if image.mode in ("RGB", "L", "CMYK") else "RGB", (edge, edge))
        orientation = _orientation(image.getexif())
        _load(image)
        rgb = to_srgb(image, image.info.get("icc_profile"))
        rgb.thumbnail((edge, edge), Image.Resampling.BILINEAR)
        rgb = upright(rgb, orientation)
        rgb.info = {}
        save_jpeg(rgb, dest, quality=78)
        return rgb.size
