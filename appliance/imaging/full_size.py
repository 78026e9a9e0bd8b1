"""The full-size JPEG guests may download when the event's download size is "full size": the same
pipeline as the web JPEG (edits, watermark, sRGB, the credits in EXIF and nothing else of the
original's metadata: no GPS, no serial numbers), at the photo's own size."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from . import pipeline
from .metadata import exif_for_output
from .recipe import Recipe

NO_LIMIT = 1_000_000  # a long edge no camera reaches: the pipeline never upscales
QUALITY = 92


def full_size_jpeg(source: Path, recipe: Recipe, watermark: pipeline.Mark | Image.Image | None = None,
                   artist: str = "", copyright_: str = "", quality: int = QUALITY) -> bytes:
    """``source`` rendered at its own size and encoded as a JPEG."""
    try:
        with Image.open(source) as original:
            exif = exif_for_output(original.getexif(), artist, copyright_)
    except (OSError, SyntaxError, ValueError) as exc:
        raise pipeline.ImageError(f"cannot read {source.name}: {exc}") from exc
    image = pipeline.render(source, recipe, long_edge=NO_LIMIT, watermark=watermark)
    return pipeline.jpeg_bytes(image, quality, exif)
