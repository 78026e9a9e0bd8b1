"""The public gallery in Chromium: viewports, a page that collects console errors, and the
helpers the gallery's browser tests share (fixtures in tests/web/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support import gallery as gf
from support.browser import ARTIFACTS

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
                   "(KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"),
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
SCREEN: dict[str, Any] = {"viewport": {"width": 1920, "height": 1080}}  # a venue's projector
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP, "1920": SCREEN}
class Page:
    """A Playwright page plus the console errors it produced."""

    def __init__(self, page: Any, kind: str) -> None:
        self.page = page
        self.kind = kind
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("console", self._console)

    def _console(self, msg: Any) -> None:
        # Chromium logs failed requests and WebSocket connections itself; the gallery handles both
        # (retries, falls back to polling), so only the page's own errors count.
        network = "Failed to load resource" in msg.text or msg.text.startswith("WebSocket connection to")
        if msg.type == "error" and not network:
            self.errors.append(msg.text)

    def shot(self, name: str, full_page: bool = False) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}-{self.kind}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


def goto(p: Page, server: gf.GalleryServer, query: str = "?event=demo", state: str = "ready") -> None:
    p.page.goto(server.url + "/" + query)
    p.page.wait_for_selector(f"html[data-state='{state}']")


def seed(server: gf.GalleryServer, n: int, mixed: bool = False, **event: Any) -> gf.Event:
    ev = server.event("demo", **event)
    shapes = [(1200, 800), (800, 1200), (1200, 800), (1200, 900), (900, 1200), (1200, 675)]
    for i in range(n):
        w, h = shapes[i % len(shapes)] if mixed else (1200, 800)
        ev.add(f"IMG_{7000 + i}", w, h)
    server.publish("demo")
    return ev
