"""Where the bundled web assets live (installed copy first, then the source tree)."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]


def web_dir() -> Path:
    """The public gallery (web/): shipped inside the wheel as appliance/web."""
    for candidate in (PACKAGE / "web", PACKAGE.parent / "web"):
        if (candidate / "index.html").is_file():
            return candidate
    raise FileNotFoundError("gallery assets (web/index.html) not found")
