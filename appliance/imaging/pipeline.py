"""The one image pipeline: a buffered original plus an edit recipe in, web JPEG and thumbnail out.

Used by the publisher, the admin preview, the button and the importer's grid thumbnails.

Order of operations is chosen for a Pi. The whole edit (orientation, rotation, straighten, zoom,
output size) is first planned as geometry on the original's size; then the JPEG is decoded with DCT
scaling (``draft``) at the smallest scale that still has enough pixels, only the region the output
needs is resampled once to the output size (1.25× that for a straighten), and everything after
that (colour conversion, straighten, exposure, transposes, watermark) runs on 3–5 MP, never on the
full 24–45 MP frame. The edit runs band by band on another core while the JPEG is still decoding
(:mod:`.bands`), so a publish costs little more than the decode and the web JPEG's encode.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from PIL import Image

from ..fsutil import atomic_save, atomic_write_bytes
from .band_thread import BandThread
from .bands import Bands, DecodeError, decode_in_bands, streamable
from .colour import SRGB as SRGB  # re-exported: tests and benches use pipeline.SRGB
from .colour import _exposure_lut, to_srgb
from .geometry import executor, plan, upright
from .metadata import (
    TAG_MAKE,
    TAG_MODEL,
    ExifInfo,
    capture_time,
    exif_for_output,
    exif_ifd,
    orientation_of,
    rating_of,
    text_value,
)
from .recipe import Recipe

JPEG_FORMATS = ("JPEG", "MPO")  # MPO: cameras that embed a preview (Multi-Picture Format)
THUMB_QUALITY = 80


class ImageError(ValueError):
    """An original cannot be processed (corrupt, truncated, too large, not a JPEG...)."""


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
class Encoded:
    """A rendered photo encoded in memory, ready to be written: nothing touches disk before."""

    web: bytes
    thumb: bytes
    webp: bytes | None
    rendered: Rendered


class Mark(Protocol):
    """A watermark that composites itself onto a rendered image (see :mod:`appliance.imaging.watermark`)."""

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


# -- rendering ------------------------------------------------------------------------------------
def render_image(
    image: Image.Image, recipe: Recipe, long_edge: int = 2048,
    watermark: Mark | Image.Image | None = None,
) -> Image.Image:
    """Run the pipeline on an opened (not yet loaded) JPEG; returns sRGB RGB pixels."""
    exif = image.getexif()
    p = plan(image.size, orientation_of(exif), recipe, long_edge)
    # Decode at the smallest DCT scale that still gives at least the output's pixel density.
    want = (math.ceil(image.width * p.factor), math.ceil(image.height * p.factor))
    if p.factor < 1 and image.mode in ("RGB", "L", "CMYK", "YCbCr"):
        image.draft(image.mode, want)
    icc = image.info.get("icc_profile")

    def to_rgb(band: Image.Image) -> Image.Image:
        return to_srgb(band, icc)

    lut = _exposure_lut(recipe.exposure) if recipe.exposure else None
    bands = Bands(p, image.size, to_rgb, lut)
    if streamable(image):  # the edit runs on another core while the JPEG decodes
        worker = BandThread(bands)
        try:
            frame = decode_in_bands(image, worker.rows_ready,  # type: ignore[arg-type]
                                    bands.rows_needed)
        except BaseException as exc:
            worker.cancel()  # the decoding error is the one to report
            if isinstance(exc, (DecodeError, SyntaxError, ValueError, MemoryError)):
                raise ImageError(f"JPEG data truncated or corrupt: {exc}") from exc
            raise
        out = worker.finish(frame)  # the last bands, shared by both threads
    else:
        _load(image)
        out = bands.finish(image)  # loaded whole: all of it as one band
    image.close()  # free the decoded frame now: up to 45 MB less at the peak on a 512 MB Pi
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


# -- encoding -------------------------------------------------------------------------------------
def encoded(image: Image.Image, format_: str, **options: Any) -> bytes:
    """``image`` saved as ``format_``, in memory.

    Through an in-memory file rather than a BytesIO: Pillow releases the GIL while it encodes to
    a file descriptor (not to a Python buffer), so other threads run meanwhile (the thumbnail
    beside the web JPEG; other requests in an admin worker)."""
    with _memory_file() as handle:
        image.save(handle, format_, **options)
        handle.seek(0)
        return handle.read()


def _memory_file() -> IO[bytes]:
    """A file that lives in memory (memfd on Linux), else an unnamed temporary file."""
    if hasattr(os, "memfd_create"):
        return open(os.memfd_create("encoded", os.MFD_CLOEXEC), "w+b")
    return tempfile.TemporaryFile()


def jpeg_bytes(image: Image.Image, quality: int = 85, exif: bytes = b"") -> bytes:
    """The web JPEG: baseline, optimised Huffman tables, 4:2:0. Not progressive (same pixels, 3 %
    fewer bytes, but 2.6× the encode on the publish's critical path and 2.9× the decode in guests'
    browsers; the lightbox shows the thumbnail meanwhile anyway: docs/publish.md)."""
    return encoded(image, "JPEG", quality=quality, optimize=True, exif=exif, subsampling="4:2:0")


def thumb_jpeg_bytes(image: Image.Image, quality: int = THUMB_QUALITY) -> bytes:
    """A thumbnail or preview JPEG, progressive (2 ms at 480 px)."""
    return encoded(image, "JPEG", quality=quality, progressive=True, optimize=True)


def webp_bytes(image: Image.Image, quality: int = 80, exif: bytes = b"") -> bytes:
    return encoded(image, "WEBP", quality=quality, method=4, exif=exif)


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
    """Encode the web JPEG here while other cores make the thumbnail (from the web image), its
    placeholder colours and the optional WebP."""

    def small() -> tuple[Image.Image, bytes, str, str]:
        thumb = make_thumbnail(image, thumb_edge)
        return thumb, thumb_jpeg_bytes(thumb), dominant_color(thumb), placeholder(thumb)

    # Its own copy: save() keeps its options on the Image, and the two encoders run at once.
    webp_job = (executor().submit(webp_bytes, image.copy(), webp_quality, exif)
                if webp_quality else None)
    thumb_job = executor().submit(small)
    web = jpeg_bytes(image, quality, exif)
    thumb, thumb_data, color, preview = thumb_job.result()
    webp = webp_job.result() if webp_job is not None else None
    rendered = Rendered(image.width, image.height, thumb.width, thumb.height, color,
                        webp is not None, preview)
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


# -- metadata and import-time helpers ----------------------------------------------------------
def read_exif_info(path: Path) -> ExifInfo:
    """Pixel size (as displayed), orientation, capture time and camera of an original."""
    image = _open(path)
    with image:
        exif = image.getexif()
        sub = exif_ifd(exif)
        orientation = orientation_of(exif)
        w, h = image.size
        if orientation in (5, 6, 7, 8):
            w, h = h, w
        return ExifInfo(
            width=w,
            height=h,
            orientation=orientation,
            capture_time=capture_time(sub, exif),
            make=text_value(exif.get(TAG_MAKE)), model=text_value(exif.get(TAG_MODEL)),
            rating=rating_of(exif, image.info.get("xmp")),
        )


def thumbnail_from_original(path: Path, dest: Path, edge: int = 400) -> tuple[int, int]:
    """Admin-grid thumbnail straight from an original, decoding at reduced size (draft mode)."""
    image = _open(path)
    with image:
        image.draft(image.mode if image.mode in ("RGB", "L", "CMYK") else "RGB", (edge, edge))
        orientation = orientation_of(image.getexif())
        _load(image)
        return thumbnail_from_pixels(image, image.info.get("icc_profile"), orientation, dest, edge)


def thumbnail_from_pixels(image: Image.Image, icc: bytes | None, orientation: int, dest: Path,
                          edge: int = 400) -> tuple[int, int]:
    """Admin-grid thumbnail from an image already decoded (left untouched): the same thumbnail
    as :func:`thumbnail_from_original` makes, for a frame decoded anyway (a HEIC at import)."""
    factor = min(1.0, edge / max(image.size))
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    small = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0) if factor < 1 else image
    rgb = upright(to_srgb(small, icc), orientation)
    rgb = rgb.copy() if rgb is image else rgb
    rgb.info = {}
    save_jpeg(rgb, dest, quality=78)
    return rgb.size
