"""Colour for the pipeline: embedded ICC profiles to sRGB, and the exposure edit in linear light."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageCms

SRGB = ImageCms.createProfile("sRGB")


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
