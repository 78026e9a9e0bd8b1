"""The watermark settings row in the store: load, validate-and-save, and the mark to apply now.

Kept out of ``imaging.watermark`` so the render stays free of the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..imaging.watermark import Watermark, WatermarkError, WatermarkSettings, png_path, store_png
from ..store import Store

SETTING = "watermark"


def load_settings(store: Store) -> WatermarkSettings:
    """The current settings (defaults when none were saved)."""
    return WatermarkSettings.parse(store.get_setting(SETTING))


def save_settings(store: Store, state_dir: Path, changes: dict[str, Any],
                  png: bytes | None = None) -> WatermarkSettings:
    """Merge ``changes`` (and an uploaded PNG) into the saved settings; validated before saving."""
    current = load_settings(store).to_dict()
    current.update(changes)
    if png is not None:
        current["png"] = store_png(state_dir, png)
        current["enabled"] = changes.get("enabled", True)
    settings = WatermarkSettings.parse(current)
    if settings.png and not png_path(state_dir, settings.png).exists():
        raise WatermarkError(f"no uploaded PNG {settings.png[:12]}…")
    store.set_setting(SETTING, settings.to_dict())
    return settings


def current(store: Store, state_dir: Path) -> Watermark | None:
    """The watermark to apply now, or None when it is switched off."""
    settings = load_settings(store)
    return Watermark(settings, state_dir) if settings.enabled else None
