"""A JPEG for a HEIC/HEIF photo (phones, Canon/Sony/Fujifilm HEIF modes), decoded by pillow-heif.

The JPEG keeps the HEIC's colour profile (ICC, mostly Display P3 on phones) and its EXIF, and is
written at high quality with the HEIC's own chroma subsampling, so the publish pipeline's one
resize and re-encode is what decides the published quality, as for a camera JPEG. libheif applies
the HEIC's rotation and mirroring while decoding, so the JPEG is upright (EXIF orientation 1).

pillow-heif's wheels bundle libheif with x265 and are GPLv2; see docs/ingest.md.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from PIL import Image

from .derive import HEIF, Derived, DeriveError, exif_bytes
from .metadata import TAG_ORIENTATION

QUALITY = 95


@lru_cache(maxsize=1)
def _register() -> None:
    """Teach Pillow to open HEIF (once); DeriveError when pillow-heif is not installed."""
    try:
        import pillow_heif
    except ImportError as exc:
        raise DeriveError("HEIC support (pillow-heif) is not installed") from exc
    pillow_heif.register_heif_opener()


def heif_jpeg(path: Path, quality: int = QUALITY, keep_edge: int = 0) -> Derived:
    """The primary image of a HEIC/HEIF file as a JPEG with its ICC profile and EXIF; with
    ``keep_edge``, also its decoded pixels reduced by a whole factor to no less than that long
    edge (``Derived.pixels``: for the admin thumbnail, so the JPEG is not decoded again)."""
    _register()
    try:
        with Image.open(path) as image:
            if image.format != "HEIF":
                raise DeriveError(f"not a HEIC/HEIF image (found {image.format})")
            image.load()
            icc = image.info.get("icc_profile") or None
            chroma = image.info.get("chroma")
            exif = image.getexif()
            rgb = image if image.mode in ("RGB", "L") else image.convert("RGB")
            exif[TAG_ORIENTATION] = 1  # libheif rotated the pixels already
            out = io.BytesIO()
            # no optimize=True: a second Huffman pass costs ~120 ms a 12 MP frame for ~5% of its size
            rgb.save(out, "JPEG", quality=quality, icc_profile=icc,
                     exif=exif_bytes(exif), subsampling="4:4:4" if chroma == 444 else "4:2:0")
            pixels = None
            if keep_edge > 0:  # a new image (``image`` is closed on return); reduce(1) is a copy
                pixels = rgb.reduce(max(1, max(rgb.size) // keep_edge))
                pixels.info = {"icc_profile": icc} if icc else {}
    except DeriveError:
        raise
    except Image.DecompressionBombError as exc:
        raise DeriveError(f"image too large (decompression bomb): {exc}") from exc
    except (OSError, SyntaxError, ValueError, RuntimeError, MemoryError) as exc:
        raise DeriveError(f"not a readable HEIC/HEIF ({str(exc).strip()})") from exc
    return Derived(out.getvalue(), HEIF, pixels)
