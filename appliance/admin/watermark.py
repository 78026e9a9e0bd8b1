"""Watermark settings: validation, the uploaded PNG, and a compositor for the admin's previews.

The settings live in the store (setting ``watermark``; ``watermark_version`` is bumped on every
change) so the publisher picks them up without a restart::

    {"kind": "text" | "image" | "none", "text": str, "image_sha": str | None,
     "position": "bottom-right" | "bottom-left" | "top-right" | "top-left" | "center",
     "opacity": 0..1, "size": 0.05..0.5}        # size: mark width as a fraction of the short edge

An image mark is stored as ``state/watermarks/<sha256>.png`` (re-encoded RGBA PNG).
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ..fsutil import atomic_write_bytes
from ..store import Store

KINDS = ("none", "text", "image")
POSITIONS = ("bottom-right", "bottom-left", "top-right", "top-left", "center")
DEFAULT: dict[str, Any] = {
    "kind": "none", "text": "", "image_sha": None, "position": "bottom-right", "opacity": 0.7,
    "size": 0.2,
}
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_PNG_BYTES = 5 * 1024 * 1024
MAX_PNG_SIDE = 4096
FONT_PATHS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
)


class WatermarkError(ValueError):
    """Watermark settings or an uploaded mark are not acceptable."""


def folder(state: Path) -> Path:
    return state / "watermarks"


def image_path(state: Path, sha: str) -> Path:
    if not SHA_RE.match(sha):
        raise WatermarkError("image_sha must be 64 hex digits")
    return folder(state) / f"{sha}.png"


def load(store: Store) -> dict[str, Any]:
    return {**DEFAULT, **(store.get_setting("watermark") or {})}


def save(store: Store, settings: dict[str, Any]) -> int:
    """Store the settings and bump ``watermark_version``; returns the new version."""
    with store.transaction():
        version = int(store.get_setting("watermark_version", 0)) + 1
        store.set_setting("watermark", settings)
        store.set_setting("watermark_version", version)
    return version


def validate(raw: dict[str, Any], current: dict[str, Any], state: Path) -> dict[str, Any]:
    """Merge a (partial) update onto ``current``; every key is checked, unknown keys refused."""
    unknown = set(raw) - set(DEFAULT)
    if unknown:
        raise WatermarkError(f"unknown watermark setting {sorted(unknown)[0]!r}")
    out = {**DEFAULT, **current, **raw}
    if out["kind"] not in KINDS:
        raise WatermarkError(f"kind must be one of {', '.join(KINDS)}")
    if out["position"] not in POSITIONS:
        raise WatermarkError(f"position must be one of {', '.join(POSITIONS)}")
    if not isinstance(out["text"], str) or len(out["text"].strip()) > 80:
        raise WatermarkError("text must be at most 80 characters")
    out["text"] = out["text"].strip()
    if any(ord(c) < 32 for c in out["text"]):
        raise WatermarkError("text must be a single line")
    for key, (low, high) in (("opacity", (0.0, 1.0)), ("size", (0.05, 0.5))):
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise WatermarkError(f"{key} must be a number between {low:g} and {high:g}")
        out[key] = round(float(value), 3)
    sha = out["image_sha"]
    if sha is not None and (not isinstance(sha, str) or not image_path(state, sha).is_file()):
        raise WatermarkError("image_sha does not name an uploaded watermark image")
    if out["kind"] == "text" and not out["text"]:
        raise WatermarkError("a text watermark needs text")
    if out["kind"] == "image" and not sha:
        raise WatermarkError("an image watermark needs an uploaded PNG")
    return out


def store_png(data: bytes, state: Path) -> str:
    """Check an uploaded PNG, re-encode it as RGBA and store it by content hash; returns the sha."""
    if len(data) > MAX_PNG_BYTES:
        raise WatermarkError(f"the PNG must be at most {MAX_PNG_BYTES // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != "PNG":
                    raise WatermarkError(f"the watermark must be a PNG (got {image.format})")
                if max(image.size) > MAX_PNG_SIDE:
                    raise WatermarkError(f"the PNG must be at most {MAX_PNG_SIDE} px on a side")
                rgba = image.convert("RGBA")
    except WatermarkError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise WatermarkError(f"not a readable PNG: {exc}") from exc
    out = io.BytesIO()
    rgba.save(out, "PNG", optimize=True)
    encoded = out.getvalue()
    sha = hashlib.sha256(encoded).hexdigest()
    path = image_path(state, sha)
    if not path.exists():
        atomic_write_bytes(path, encoded)
    return sha


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_PATHS:
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _text_mark(text: str) -> Image.Image:
    """White text with a soft shadow, legible on light and dark photos."""
    font = _font(96)
    left, top, right, bottom = font.getbbox(text)
    pad = 16
    mark = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    shadow = Image.new("RGBA", mark.size, (0, 0, 0, 0))
    ImageDraw.Draw(shadow).text((pad - left + 3, pad - top + 3), text, font=font, fill=(0, 0, 0, 160))
    mark = Image.alpha_composite(mark, shadow.filter(ImageFilter.GaussianBlur(4)))
    ImageDraw.Draw(mark).text((pad - left, pad - top), text, font=font, fill=(255, 255, 255, 255))
    return mark


def mark_image(settings: dict[str, Any], state: Path) -> Image.Image | None:
    """The RGBA mark for ``settings`` with its opacity applied (None: no watermark)."""
    if settings["kind"] == "text" and settings["text"]:
        mark = _text_mark(settings["text"])
    elif settings["kind"] == "image" and settings["image_sha"]:
        path = image_path(state, settings["image_sha"])
        if not path.is_file():
            return None
        with Image.open(path) as image:
            mark = image.convert("RGBA")
    else:
        return None
    if settings["opacity"] < 1:
        alpha = mark.getchannel("A").point(lambda a: round(a * settings["opacity"]))
        mark.putalpha(alpha)
    return mark


def composite(image: Image.Image, settings: dict[str, Any], state: Path) -> Image.Image:
    """Place the mark on ``image``: width = size × short edge, 3 % margin, at ``position``."""
    mark = mark_image(settings, state)
    if mark is None:
        return image
    short = min(image.size)
    width = max(1, round(short * settings["size"]))
    height = max(1, round(mark.height * width / mark.width))
    scaled = mark.resize((width, height), Image.Resampling.LANCZOS)
    margin = round(short * 0.03)
    x = {"left": margin, "right": image.width - width - margin}
    y = {"top": margin, "bottom": image.height - height - margin}
    if settings["position"] == "center":
        xy = ((image.width - width) // 2, (image.height - height) // 2)
    else:
        vertical, horizontal = settings["position"].split("-")
        xy = (x[horizontal], y[vertical])
    out = image.convert("RGB").copy()
    out.paste(scaled, xy, scaled)
    return out
