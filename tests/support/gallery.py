"""A tiny stand-in for the gallery's hosting, for the browser tests.

Serves web/ at / (with its own config.js so the poll interval can be short)
and /photo/<event>/<rest> from an in-memory event tree, with ETag and
If-None-Match -> 304 like the Pages Function. Images are real JPEGs made
with PIL on demand. Every request is logged (method, status, body bytes) so
tests and bench/gallery.py can count polls and bytes.

``photo_origin`` stands in for an R2 custom domain: config.js then points
photoBase at that origin (e.g. http://localhost:<port>, a different origin
from the page's http://127.0.0.1:<port>), /photo/ answers carry CORS headers
like the bucket's CORS rule, and the page's CSP allows that origin.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from PIL import Image, ImageDraw

WEB = Path(__file__).resolve().parents[2] / "web"

PHOTO_RE = re.compile(
    r"^/photo/(?P<event>[a-z0-9][a-z0-9-]{0,62})/"
    r"(?P<rest>manifest\.json|faces\.bin|(?:photos|thumbs)/(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]{0,120})"
    r"\.(?P<ext>jpg|webp))$"
)
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
}


def csp_from_headers_file() -> str | None:
    """The Content-Security-Policy that web/_headers gives every page."""
    path = WEB / "_headers"
    if not path.is_file():
        return None
    for line in path.read_text().splitlines():
        m = re.match(r"^\s+Content-Security-Policy:\s*(.+)$", line)
        if m:
            return m.group(1).strip()
    return None


def palette(i: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Two pleasant colours for picture number i (warm, muted, varied)."""
    h = (i * 0.137 + 0.05) % 1.0
    a = colorsys.hls_to_rgb(h, 0.58, 0.38)
    b = colorsys.hls_to_rgb((h + 0.08) % 1.0, 0.30, 0.30)
    return tuple(int(x * 255) for x in a), tuple(int(x * 255) for x in b)  # type: ignore[return-value]


def make_jpeg(w: int, h: int, seed: int, label: str = "", fmt: str = "JPEG") -> bytes:
    """A photo-like JPEG (or WebP): a vertical gradient with a 'sun' and hills."""
    top, bottom = palette(seed)
    img = Image.new("RGB", (w, h), top)
    draw = ImageDraw.Draw(img)
    for y in range(0, h, 4):
        t = y / max(1, h - 1)
        c = tuple(int(top[k] * (1 - t) + bottom[k] * t) for k in range(3))
        draw.rectangle([0, y, w, y + 4], fill=c)
    r = max(6, min(w, h) // 7)
    cx, cy = int(w * (0.25 + 0.5 * ((seed * 37) % 100) / 100)), int(h * 0.38)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(250, 236, 210))
    hill = tuple(max(0, v - 40) for v in bottom)
    draw.polygon([(0, h), (0, int(h * 0.72)), (int(w * 0.35), int(h * 0.6)),
                  (int(w * 0.7), int(h * 0.78)), (w, int(h * 0.66)), (w, h)], fill=hill)
    if label:
        draw.text((max(4, w // 40), max(4, h // 40)), label, fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, fmt, quality=80)
    return buf.getvalue()


def placeholder(seed: int) -> str:
    """The manifest's `ph` for picture `seed`: 3x3 #rgb colours, row by row (sky, sky, hills)."""
    top, bottom = palette(seed)
    hill = tuple(max(0, v - 40) for v in bottom)
    mid = tuple((a + b) // 2 for a, b in zip(top, bottom, strict=True))
    rows = [top] * 3 + [mid] * 3 + [hill] * 3
    return "".join(f"{min(15, (v + 8) // 17):x}" for c in rows for v in c)


@dataclass
class Photo:
    name: str
    w: int
    h: int
    seed: int
    published: str
    broken: bool = False  # listed in the manifest, but its image files 404
    webp: bool = False  # a WebP beside the web JPEG (publish.webp)
    jpeg: bytes | None = None  # a real photo (web size and thumbnail alike) instead of a drawn one

    @property
    def tw(self) -> int:
        return 480 if self.w >= self.h else round(480 * self.w / self.h)

    @property
    def th(self) -> int:
        return round(self.tw * self.h / self.w)

    def entry(self) -> dict[str, Any]:
        top, _ = palette(self.seed)
        return {
            "name": self.name,
            "src": f"photos/{self.name}.jpg",
            "w": self.w,
            "h": self.h,
            "thumb": f"thumbs/{self.name}.jpg",
            "tw": self.tw,
            "th": self.th,
            "taken": self.published.replace("Z", "+00:00"),
            "published": self.published,
            "color": "#{:02x}{:02x}{:02x}".format(*top),
            "ph": placeholder(self.seed),
        } | ({"webp": f"photos/{self.name}.webp"} if self.webp else {})


@dataclass
class Event:
    slug: str
    title: str = "Anna & Ben"
    subtitle: str | None = "21 November 2026 · Villa Rosa"
    hero: str | None = None
    credit: str | None = None  # the photographer's credit (event.credit), when the manifest has one
    order: str | None = None  # event.order: "capture" (photos in the order taken), None for newest first
    faces: tuple[int, str, bytes] | None = None  # face search on: (v, consent, faces.bin)
    photos: list[Photo] = field(default_factory=list)  # newest first
    _clock: datetime = field(default_factory=lambda: datetime(2026, 11, 21, 14, 0, tzinfo=UTC))
    _seed: int = 0
    _entries: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = field(default_factory=dict, repr=False)

    def add(self, name: str, w: int = 1200, h: int = 800, broken: bool = False,
            webp: bool = False, jpeg: bytes | None = None, at: int = 0) -> Photo:
        """Publish a photo: it becomes the newest (first in the manifest), or goes to index ``at``
        (a capture-order event: a frame taken earlier than some already shown)."""
        self._clock += timedelta(seconds=37)
        self._seed += 1
        p = Photo(name, w, h, self._seed, self._clock.strftime("%Y-%m-%dT%H:%M:%SZ"), broken, webp, jpeg)
        self.photos.insert(at, p)
        return p

    def remove(self, name: str) -> None:
        self.photos = [p for p in self.photos if p.name != name]

    def names(self) -> list[str]:
        return [p.name for p in self.photos]

    def manifest(self) -> dict[str, Any]:
        return {
            "version": 1,
            "event": {"slug": self.slug, "title": self.title, "subtitle": self.subtitle,
                      "hero": self.hero} | ({"credit": self.credit} if self.credit else {})
                     | ({"order": self.order} if self.order else {}),
            "generated_at": self._clock.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "photos": [self._entry(p) for p in self.photos],
        } | ({"faces": {"v": self.faces[0], "consent": self.faces[1]}} if self.faces else {})

    def _entry(self, p: Photo) -> dict[str, Any]:
        """p.entry(), remembered (2,500-photo events publish often in bench/slideshow_figures.py)."""
        key = (p.name, p.w, p.h, p.seed, p.published, p.webp)
        cached = self._entries.get(p.name)
        if cached is None or cached[0] != key:
            cached = self._entries[p.name] = (key, p.entry())
        return cached[1]


@dataclass
class LogEntry:
    path: str
    status: int
    if_none_match: str | None
    at: float
    method: str = "GET"
    body_bytes: int = 0  # bytes of response body sent (0 for 304 and HEAD)
    origin: str | None = None


class GalleryServer:
    """Threaded HTTP server for one or more events. Use as a context manager."""

    def __init__(self, poll_seconds: float = 0.5, default_event: str | None = None,
                 photo_delay: float = 0.0, photo_origin: str | None = None,
                 live_base: str | None = None) -> None:
        self.events: dict[str, Event] = {}
        self.poll_seconds = poll_seconds
        self.default_event = default_event
        self.photo_delay = photo_delay
        self.photo_origin = photo_origin  # "custom domain": photos and manifests from here
        self.live_base = live_base  # push on: the live channel's base URL (e.g. http://127.0.0.1:N/live)
        self.log: list[LogEntry] = []
        self.csp = csp_from_headers_file()
        self._lock = threading.RLock()
        self._images: dict[tuple[str, str, int], bytes] = {}
        self._manifests: dict[str, tuple[bytes, str]] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- content ---------------------------------------------------------
    def event(self, slug: str, **kw: Any) -> Event:
        with self._lock:
            ev = self.events.get(slug) or Event(slug, **kw)
            self.events[slug] = ev
            return ev

    def publish(self, slug: str) -> None:
        """Freeze the event's current state into its manifest.json (new ETag if changed)."""
        with self._lock:
            body = json.dumps(self.events[slug].manifest(), indent=1).encode()
            etag = f'"{hashlib.sha1(body).hexdigest()[:20]}"'
            self._manifests[slug] = (body, etag)

    def withdraw(self, slug: str) -> None:
        """Delete the event's manifest.json (404 again, as before the first publish)."""
        with self._lock:
            self._manifests.pop(slug, None)

    def image(self, slug: str, rest: str, name: str) -> bytes | None:
        with self._lock:
            ev = self.events.get(slug)
            photo = next((p for p in ev.photos if p.name == name), None) if ev else None
            if photo is None or photo.broken:
                return None
            thumb = rest.startswith("thumbs/")
            webp = rest.endswith(".webp")
            if webp and (thumb or not photo.webp):
                return None
            if photo.jpeg is not None:
                return None if webp else photo.jpeg
            key = (slug, rest, photo.seed)
            if key not in self._images:
                w, h = (photo.tw, photo.th) if thumb else (photo.w, photo.h)
                self._images[key] = make_jpeg(w, h, photo.seed, "" if thumb else name,
                                              "WEBP" if webp else "JPEG")
            return self._images[key]

    def config_js(self) -> bytes:
        base = f"{self.photo_origin}/photo" if self.photo_origin else "/photo"
        cfg: dict[str, Any] = {"photoBase": base, "defaultEvent": self.default_event,
                               "pollSeconds": self.poll_seconds}
        if self.live_base:
            cfg.update(push=True, liveBase=self.live_base)
        return f"window.GALLERY_CONFIG = {json.dumps(cfg)};\n".encode()

    def page_csp(self) -> str | None:
        """web/_headers' CSP; with a photo origin on plain http, that origin is allowed too
        (the real one allows any https: origin)."""
        if not self.csp or not (self.photo_origin or self.live_base):
            return self.csp
        csp = self.csp
        if self.photo_origin:
            for directive in ("img-src", "connect-src"):
                csp = re.sub(rf"\b{directive}\b", f"{directive} {self.photo_origin}", csp, count=1)
        if self.live_base:  # the channel on another port here; same origin (/live) in production
            origin = re.sub(r"^http", "ws", re.match(r"^https?://[^/]+", self.live_base).group(0))
            csp = re.sub(r"\bconnect-src\b", f"connect-src {origin}", csp, count=1)
        return csp

    @property
    def other_origin(self) -> str:
        """This server under another origin (localhost instead of 127.0.0.1): a stand-in for
        an R2 custom domain. Set ``photo_origin`` to it."""
        return self.url.replace("127.0.0.1", "localhost")

    # -- log helpers -----------------------------------------------------
    def manifest_requests(self, slug: str, since: float = 0.0,
                          until: float = float("inf")) -> list[LogEntry]:
        """GET/HEAD requests for the event's manifest (CORS preflights are not included)."""
        with self._lock:
            return [e for e in self.log
                    if e.path == f"/photo/{slug}/manifest.json" and e.method != "OPTIONS"
                    and since <= e.at < until]

    def preflights(self, since: float = 0.0) -> list[LogEntry]:
        with self._lock:
            return [e for e in self.log if e.method == "OPTIONS" and e.at >= since]

    # -- server ----------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> GalleryServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt: str, *args: Any) -> None:  # quiet
                pass

            def do_HEAD(self) -> None:  # noqa: N802
                self.handle_get(head=True)

            def do_GET(self) -> None:  # noqa: N802
                self.handle_get(head=False)

            def do_OPTIONS(self) -> None:  # noqa: N802
                # A CORS preflight: the gallery is built never to need one (logged to prove it).
                headers = {"Access-Control-Allow-Methods": "GET, HEAD",
                           "Access-Control-Max-Age": "3600"}
                self.send(204, b"", headers)

            def cors(self, headers: dict[str, str]) -> dict[str, str]:
                """The bucket's CORS rule (photo origin only): any Origin, ETag exposed."""
                origin = self.headers.get("Origin")
                if server.photo_origin and origin and urlsplit(self.path).path.startswith("/photo/"):
                    headers = {**headers, "Access-Control-Allow-Origin": origin,
                               "Access-Control-Expose-Headers": "ETag", "Vary": "Origin"}
                return headers

            def send(self, status: int, body: bytes, headers: dict[str, str],
                     head: bool = False) -> None:
                path = urlsplit(self.path).path
                sent = 0 if head or status in (204, 304) else len(body)
                with server._lock:
                    server.log.append(LogEntry(path, status, self.headers.get("If-None-Match"),
                                               time.monotonic(), self.command, sent,
                                               self.headers.get("Origin")))
                headers = self.cors(headers)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if status not in (204, 304):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if sent:
                    self.wfile.write(body)

            def handle_get(self, head: bool) -> None:
                path = urlsplit(self.path).path
                m = PHOTO_RE.match(path)
                if m:
                    return self.photo(m, head)
                if path.startswith("/photo/"):
                    return self.send(404, b"not found\n", {"Content-Type": "text/plain"}, head)
                if path == "/config.js":
                    return self.send(200, server.config_js(), {
                        "Content-Type": STATIC_TYPES[".js"], "Cache-Control": "no-cache"}, head)
                rel = "index.html" if path in ("/", "/index.html") else unquote(path.lstrip("/"))
                if "." not in rel.rsplit("/", 1)[-1] and (WEB / f"{rel}.html").is_file():
                    rel += ".html"  # Pages' pretty URLs: /slideshow serves slideshow.html
                file = (WEB / rel).resolve()
                if WEB.resolve() not in file.parents or not file.is_file() or rel.startswith("_"):
                    return self.send(404, b"not found\n", {"Content-Type": "text/plain"}, head)
                headers = {"Content-Type": STATIC_TYPES.get(file.suffix, "application/octet-stream"),
                           "Cache-Control": "no-cache"}
                csp = server.page_csp()
                if file.suffix == ".html" and csp:
                    headers["Content-Security-Policy"] = csp
                return self.send(200, file.read_bytes(), headers, head)

            def photo(self, m: re.Match[str], head: bool) -> None:
                slug, rest = m.group("event"), m.group("rest")
                if rest == "faces.bin":
                    with server._lock:
                        ev = server.events.get(slug)
                        index = ev.faces[2] if ev and ev.faces else None
                    if index is None:
                        return self.send(404, b"not found\n", {"Content-Type": "text/plain"}, head)
                    return self.send(200, index, {"Content-Type": "application/octet-stream",
                                                  "Cache-Control": "public, max-age=2"}, head)
                if rest == "manifest.json":
                    with server._lock:
                        found = server._manifests.get(slug)
                    if not found:
                        return self.send(404, b"not found\n", {"Content-Type": "text/plain"}, head)
                    body, etag = found
                    headers = {"Content-Type": "application/json; charset=utf-8", "ETag": etag,
                               "Cache-Control": "public, max-age=2"}
                else:
                    if server.photo_delay:
                        time.sleep(server.photo_delay)
                    data = server.image(slug, rest, m.group("name"))
                    if data is None:
                        return self.send(404, b"not found\n", {"Content-Type": "text/plain"}, head)
                    body = data
                    etag = f'"{hashlib.sha1(body).hexdigest()[:20]}"'
                    ctype = "image/webp" if m.group("ext") == "webp" else "image/jpeg"
                    headers = {"Content-Type": ctype, "ETag": etag,
                               "Cache-Control": "public, max-age=31536000, immutable"}
                inm = self.headers.get("If-None-Match")
                if inm and etag in [t.strip().removeprefix("W/") for t in inm.split(",")]:
                    return self.send(HTTPStatus.NOT_MODIFIED, b"", headers, head)
                return self.send(200, body, headers, head)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                # Browsers drop connections (lazy images, page closes): not an error.
                pass

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
