"""The watermark: its settings, and the mark rendered once per settings change.

Text or a PNG (stored once in ``state/watermarks/<sha256>.png``, referenced by its hash), a position
(a corner or the centre), an opacity and a size relative to the photo's short edge, so the mark looks
the same on portrait and landscape photos. Settings change at run time (admin, CLI; the store row is
``publish.watermark_settings``): every publish reads them, and the rendered mark is cached under the
settings' digest and the size it is needed at, so it is drawn once per settings change, not per photo.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from ..fsutil import atomic_write_bytes

POSITIONS = ("bottom-right", "bottom-left", "top-right", "top-left", "center")
MAX_PNG_BYTES = 8 * 1024 * 1024
MAX_PNG_PIXELS = 4096 * 4096
MAX_TEXT = 120
FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)


class WatermarkError(ValueError):
    """Watermark settings or the PNG are invalid, or the PNG went missing."""


@dataclass(frozen=True)
class WatermarkSettings:
    """What the photographer chose. ``size``: the mark's long side as a fraction of the short edge."""

    enabled: bool = False
    text: str = ""
    png: str | None = None  # sha256 of the PNG in state/watermarks/
    position: str = "bottom-right"
    opacity: float = 0.6
    size: float = 0.25
    margin: float = 0.03

    LIMITS = {"opacity": (0.05, 1.0), "size": (0.02, 0.9), "margin": (0.0, 0.2)}

    @classmethod
    def parse(cls, raw: dict[str, Any] | None) -> WatermarkSettings:
        """Validate settings from JSON, the CLI or the store; bad values raise with the key's name."""
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise WatermarkError("watermark settings must be an object")
        known = {"enabled", "text", "png", "position", "opacity", "size", "margin"}
        unknown = set(raw) - known
        if unknown:
            raise WatermarkError(f"unknown watermark setting {sorted(unknown, key=str)[0]!r}")
        values: dict[str, Any] = {}
        if "enabled" in raw:
            if not isinstance(raw["enabled"], bool):
                raise WatermarkError("enabled must be true or false")
            values["enabled"] = raw["enabled"]
        if raw.get("text") is not None:
            text = raw["text"]
            if not isinstance(text, str) or len(text) > MAX_TEXT or any(
                ord(ch) < 32 for ch in text
            ):
                raise WatermarkError(f"text must be one line of at most {MAX_TEXT} characters")
            values["text"] = text.strip()
        if raw.get("png") is not None:
            png = raw["png"]
            if not isinstance(png, str) or len(png) != 64 or not all(c in "0123456789abcdef" for c in png):
                raise WatermarkError("png must be the sha256 of an uploaded PNG")
            values["png"] = png
        if "position" in raw:
            if raw["position"] not in POSITIONS:
                raise WatermarkError(f"position must be one of {', '.join(POSITIONS)}")
            values["position"] = raw["position"]
        for key, (low, high) in cls.LIMITS.items():
            if key in raw:
                value = raw[key]
                if isinstance(value, bool) or not isinstance(value, int | float) or not (
                    low <= value <= high
                ):
                    raise WatermarkError(f"{key} must be a number between {low:g} and {high:g}")
                values[key] = float(value)
        settings = cls(**values)
        if settings.enabled and not settings.text and not settings.png:
            raise WatermarkError("an enabled watermark needs a text or a PNG")
        return settings

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def digest(self) -> str:
        """Identifies these settings: the cache key of the rendered mark."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]


def png_path(state_dir: Path, sha: str) -> Path:
    return state_dir / "watermarks" / f"{sha}.png"


def store_png(state_dir: Path, data: bytes) -> str:
    """Check an uploaded PNG and keep it under its sha256; returns the hash."""
    if len(data) > MAX_PNG_BYTES:
        raise WatermarkError(f"the watermark PNG is larger than {MAX_PNG_BYTES // 2**20} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != "PNG":
                    raise WatermarkError(f"the watermark must be a PNG, not {image.format}")
                if image.width * image.height > MAX_PNG_PIXELS:
                    raise WatermarkError("the watermark PNG is too large (at most 4096×4096)")
                image.load()
    except WatermarkError:
        raise
    except Exception as exc:  # any decoder failure means "not a usable PNG"
        raise WatermarkError(f"the watermark is not a readable PNG: {exc}") from exc
    sha = hashlib.sha256(data).hexdigest()
    path = png_path(state_dir, sha)
    if not path.exists():
        atomic_write_bytes(path, data)
    return sha


@dataclass(frozen=True)
class Watermark:
    """Settings bound to the folder holding PNGs; composites the cached mark onto photos."""

    settings: WatermarkSettings
    state_dir: Path

    def mark(self, photo_size: tuple[int, int]) -> Image.Image:
        """The RGBA mark for a photo of this size (cached: drawn once per settings and size)."""
        box = max(1, round(min(photo_size) * self.settings.size))
        return _rendered(self.settings, str(self.state_dir), box)

    def position(self, photo_size: tuple[int, int], mark_size: tuple[int, int]) -> tuple[int, int]:
        width, height = photo_size
        mw, mh = mark_size
        margin = round(min(photo_size) * self.settings.margin)
        pos = self.settings.position
        x = margin if pos.endswith("left") else width - mw - margin
        y = margin if pos.startswith("top") else height - mh - margin
        if pos == "center":
            x, y = (width - mw) // 2, (height - mh) // 2
        return max(0, x), max(0, y)

    def apply(self, image: Image.Image) -> Image.Image:
        """Composite the mark onto ``image`` (in place; the pipeline owns the image)."""
        mark = self.mark(image.size)
        image.paste(mark, self.position(image.size, mark.size), mark)
        return image


@lru_cache(maxsize=16)
def _rendered(settings: WatermarkSettings, state_dir: str, box: int) -> Image.Image:
    """Draw the mark so its long side is ``box`` pixels, with the opacity applied to its alpha."""
    png = settings.png
    mark = _png_mark(Path(state_dir), png, box) if png else _text_mark(settings.text, box)
    if settings.opacity < 1:
        alpha = mark.getchannel("A").point(lambda a: round(a * settings.opacity))
        mark.putalpha(alpha)
    return mark


def _png_mark(state_dir: Path, sha: str, box: int) -> Image.Image:
    path = png_path(state_dir, sha)
    try:
        with Image.open(path) as image:
            mark = image.convert("RGBA")
    except FileNotFoundError as exc:
        raise WatermarkError(f"watermark PNG missing: {path}") from exc
    except OSError as exc:
        raise WatermarkError(f"watermark PNG unreadable: {exc}") from exc
    factor = box / max(mark.size)
    size = (max(1, round(mark.width * factor)), max(1, round(mark.height * factor)))
    return mark.resize(size, Image.Resampling.LANCZOS)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONTS:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size)


def _text_mark(text: str, box: int) -> Image.Image:
    """White text with a soft dark outline (readable on any photo), ``box`` pixels wide."""
    probe_size = 100
    left, top, right, bottom = _font(probe_size).getbbox(text)
    font_size = max(6, round(probe_size * box / max(1, right - left)))
    font = _font(font_size)
    stroke = max(1, font_size // 16)
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    mark = Image.new("RGBA", (max(1, right - left), max(1, bottom - top)), (255, 255, 255, 0))
    ImageDraw.Draw(mark).text((-left, -top), text, font=font, fill=(255, 255, 255, 255),
                              stroke_width=stroke, stroke_fill=(0, 0, 0, 160))
    return mark


def render_count() -> int:
    """How many marks were drawn in this process (tests and the bench check the cache works)."""
    return _rendered.cache_info().misses
