"""Push in a real browser: the gallery's WebSocket to the live channel (the Durable Object in
workerd), and the fall back to polling when it is blocked or drops."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from support import gallery as gf
from support.browser import CHROMIUM
from support.gallery_pages import goto, seed
from support.live_channel import LiveChannel

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"),
]

SECRET = "push-browser-secret-0123456789"
SLOW_POLL = 30.0  # seconds: far longer than any wait below, so only push can explain a quick photo


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def channel(tmp_path) -> Iterator[LiveChannel]:  # noqa: ANN001
    with LiveChannel(SECRET, persist=tmp_path / "do", port=free_port()) as ch:
        yield ch


def pushing(p) -> bool:  # noqa: ANN001
    return p.page.evaluate("window.gallery.state.pushing")


@pytest.mark.parametrize("kind", ["phone", "desktop"])
def test_a_published_photo_arrives_by_push_without_polling(channel, open_page, kind):
    with gf.GalleryServer(poll_seconds=SLOW_POLL, live_base=f"{channel.url}/live") as server:
        seed(server, 4)
        p = open_page(kind)
        goto(p, server)
        p.page.wait_for_function("() => window.gallery.state.pushing === true")
        polls = len(server.manifest_requests("demo"))
        server.event("demo").add("IMG_PUSHED")
        server.publish("demo")
        start = time.monotonic()
        channel.notify("demo", SECRET, version=1)
        p.page.wait_for_selector('.tile[data-name="IMG_PUSHED"].is-loaded', timeout=5_000)
        elapsed = time.monotonic() - start
        assert elapsed < 2.0, f"push took {elapsed:.2f} s"
        # one fetch for the announcement (plus at most the catch-up on connect), no regular polls
        assert len(server.manifest_requests("demo")) - polls <= 2
        assert p.page.evaluate("window.gallery.stats.pushMessages") >= 1
        p.shot("push-new-photo")


def test_blocked_websockets_fall_back_to_polling(open_page, channel):
    with gf.GalleryServer(poll_seconds=0.4, live_base=f"{channel.url}/live") as server:
        seed(server, 3)
        p = open_page("phone")
        # A proxy that refuses WebSockets: every connection is closed at once.
        p.page.route_web_socket("**/live/**", lambda ws: ws.close())
        goto(p, server)
        p.page.wait_for_function("() => window.gallery.stats.pushConnects >= 1")
        server.event("demo").add("IMG_POLLED")
        server.publish("demo")
        p.page.wait_for_selector('.tile[data-name="IMG_POLLED"]', timeout=5_000)
        assert not pushing(p)
        assert p.page.evaluate("window.gallery.push.opened") is False


def test_a_dropped_channel_polls_then_reconnects(open_page, tmp_path):
    port = free_port()
    first = LiveChannel(SECRET, persist=tmp_path / "do", port=port)
    with gf.GalleryServer(poll_seconds=0.5, live_base=f"{first.url}/live") as server:
        seed(server, 3)
        p = open_page("phone")
        goto(p, server)
        p.page.wait_for_function("() => window.gallery.state.pushing === true")
        first.close()  # the channel goes away (a deploy, an outage)
        p.page.wait_for_function("() => window.gallery.state.pushing === false", timeout=10_000)
        assert p.page.evaluate("window.gallery.stats.pushDrops") == 1
        server.event("demo").add("IMG_WHILE_DOWN")
        server.publish("demo")
        p.page.wait_for_selector('.tile[data-name="IMG_WHILE_DOWN"]', timeout=5_000)  # by polling
        with LiveChannel(SECRET, persist=tmp_path / "do", port=port) as again:
            p.page.wait_for_function("() => window.gallery.state.pushing === true", timeout=20_000)
            server.event("demo").add("IMG_AFTER")
            server.publish("demo")
            again.notify("demo", SECRET, version=2)
            p.page.wait_for_selector('.tile[data-name="IMG_AFTER"]', timeout=5_000)


def test_push_off_never_opens_a_socket(open_page):
    with gf.GalleryServer(poll_seconds=0.4) as server:
        seed(server, 2)
        p = open_page("phone")
        goto(p, server)
        time.sleep(1.0)
        assert p.page.evaluate("window.gallery.stats.pushConnects") == 0
        assert not pushing(p)
