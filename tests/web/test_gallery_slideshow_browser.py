"""The projector slideshow (web/slideshow.html) in Chromium: a 1920 × 1080 screen and a phone.

It advances by itself, shows a photo published while it runs next (by push from the live channel in
workerd, and by polling), crossfades between exactly two layers, toggles its QR code, hides the
cursor and survives the network going away."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
from support import gallery as gf
from support.browser import CHROMIUM
from support.gallery_pages import seed
from support.live_channel import LiveChannel

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"),
]

SECRET = "slideshow-browser-secret-0123456789"


def on_stage(p) -> str | None:  # noqa: ANN001
    return p.page.evaluate("window.slideshow.onStage()")


def start(p, server: gf.GalleryServer, query: str = "?event=demo&interval=3") -> None:  # noqa: ANN001
    p.page.goto(f"{server.url}/slideshow{query}")
    p.page.wait_for_selector("html[data-state='showing']")


def test_advances_crossfades_and_keeps_two_layers(open_page):
    with gf.GalleryServer(poll_seconds=0.5) as server:
        ev = seed(server, 5, mixed=True, title="Anna & Ben", credit="Jane Doe Photography")
        p = open_page("1920")
        start(p, server)
        assert on_stage(p) == ev.names()[0]  # the loop starts at the newest
        seen = [on_stage(p)]
        deadline = time.monotonic() + 12
        while len(seen) < 4 and time.monotonic() < deadline:
            name = on_stage(p)
            if name != seen[-1]:
                seen.append(name)
            time.sleep(0.1)
        assert seen == ev.names()[:4]  # newest first, one every 3 s (?interval=3)
        # Exactly two layers, and never more than two with an image.
        assert p.page.locator(".slide").count() == 2
        assert p.page.locator(".slide img[src]").count() <= 2
        assert p.page.locator("[data-testid=title]").inner_text() == "Anna & Ben"
        assert p.page.locator("[data-testid=credit]").inner_text() == "Photo: Jane Doe Photography"
        assert p.page.evaluate("document.title") == "Anna & Ben · Slideshow"
        # The cursor is hidden everywhere on the page.
        cursors = p.page.evaluate("""() => [document.documentElement, document.body,
            document.querySelector('.slide'), document.querySelector('#qr')]
            .map(e => getComputedStyle(e).cursor)""")
        assert set(cursors) == {"none"}
        time.sleep(1.5)  # the crossfade done
        p.page.screenshot(path=str(_artifact("slideshow-1920.png")))


def test_wake_lock_is_held_and_taken_again_when_the_tab_is_back(open_page):
    with gf.GalleryServer(poll_seconds=0.5) as server:
        seed(server, 2)
        p = open_page("1920")
        start(p, server)
        p.page.wait_for_function("() => window.slideshow.wake.held === true")
        # The browser lets go of the lock when the tab is hidden; visible again, it is requested anew.
        p.page.evaluate("window.slideshow.wake.release()")
        p.page.wait_for_function("() => window.slideshow.wake.held === false")
        p.page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        p.page.wait_for_function("() => window.slideshow.wake.held === true")
        assert p.page.evaluate("window.slideshow.wake.requests") == 2


def _artifact(name: str):  # noqa: ANN202
    from support.browser import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


def test_qr_code_toggles_with_the_key_and_a_tap_and_links_to_the_gallery(open_page):
    with gf.GalleryServer(poll_seconds=0.5) as server:
        seed(server, 3)
        p = open_page("phone")
        start(p, server, "?event=demo&interval=30")
        qr = p.page.locator("[data-testid=qr]")
        assert qr.is_visible()
        link = server.url.removeprefix("http://") + "/?event=demo"
        assert p.page.evaluate("window.slideshow.qrLink()") == link
        src = p.page.locator("[data-testid=qr-code]").get_attribute("src")
        assert src.startswith("data:image/svg+xml") and quote("<path") in src
        box = p.page.locator("[data-testid=qr-code]").bounding_box()
        assert box["width"] >= 100 and box["x"] + box["width"] <= 390  # a corner, inside the screen
        time.sleep(1.2)
        p.page.screenshot(path=str(_artifact("slideshow-phone.png")))
        p.page.keyboard.press("q")
        p.page.wait_for_function("() => document.getElementById('qr').hidden")
        assert not qr.is_visible()
        p.page.touchscreen.tap(195, 300)
        p.page.wait_for_function("() => !document.getElementById('qr').hidden")
        assert qr.is_visible()


def test_a_photo_published_while_it_runs_is_shown_next_by_push(open_page, tmp_path):
    with LiveChannel(SECRET, persist=tmp_path / "do") as channel, \
            gf.GalleryServer(poll_seconds=60, live_base=f"{channel.url}/live") as server:
        ev = seed(server, 6)
        p = open_page("1920")
        start(p, server, "?event=demo&interval=20")
        p.page.wait_for_function("() => window.slideshow.state.pushing === true")
        first = on_stage(p)
        ev.add("IMG_JUST_IN", 1200, 800)
        server.publish("demo")
        t0 = time.monotonic()
        channel.notify("demo", SECRET, version=1)
        # Not the loop's next photo (20 s away) but the new one, after at most MIN_SHOW_S (4 s).
        p.page.wait_for_function("() => window.slideshow.onStage() === 'IMG_JUST_IN'", timeout=8_000)
        assert time.monotonic() - t0 < 6.0
        assert p.page.locator("[data-testid=badge]").is_visible()  # "Just in"
        assert p.page.evaluate("window.slideshow.show.stats.fresh") == 1
        # Then back to the loop where it left off: the photo after the first one.
        p.page.keyboard.press("ArrowRight")
        p.page.wait_for_function("n => window.slideshow.onStage() === n", arg=ev.names()[2])
        assert first == ev.names()[1]  # (the newest when it opened, now second)
        assert not p.page.locator("[data-testid=badge]").is_visible()


def test_polling_brings_new_photos_and_it_survives_the_network_going_away(open_page):
    with gf.GalleryServer(poll_seconds=0.4) as server:
        ev = seed(server, 3)
        p = open_page("1920")
        start(p, server, "?event=demo&interval=3")
        p.page.context.set_offline(True)
        time.sleep(4)  # a poll and a slide change fail meanwhile
        shown_offline = on_stage(p)
        assert shown_offline in ev.names()  # still a photo on the screen, no error page
        p.page.context.set_offline(False)
        ev.add("IMG_AFTER_WIFI", 800, 1200)
        server.publish("demo")
        p.page.wait_for_function("() => window.slideshow.onStage() === 'IMG_AFTER_WIFI'", timeout=15_000)
        # Unpublished while on screen: it moves on at once.
        ev.remove("IMG_AFTER_WIFI")
        server.publish("demo")
        p.page.wait_for_function("() => window.slideshow.onStage() !== 'IMG_AFTER_WIFI'", timeout=5_000)


def test_no_photos_yet_shows_the_event_and_the_qr_code_then_starts(open_page):
    with gf.GalleryServer(poll_seconds=0.4) as server:
        ev = server.event("demo", title="Villa Rosa")
        p = open_page("1920")
        p.page.goto(f"{server.url}/slideshow?event=demo")
        p.page.wait_for_selector("html[data-state='empty']")  # 404: no manifest yet
        assert p.page.locator("[data-testid=empty]").is_visible()
        assert p.page.locator("[data-testid=qr]").is_visible()
        p.page.screenshot(path=str(_artifact("slideshow-empty-1920.png")))
        ev.add("IMG_FIRST")
        server.publish("demo")
        p.page.wait_for_function("() => window.slideshow.onStage() === 'IMG_FIRST'", timeout=5_000)
        assert p.page.locator("[data-testid=title]").inner_text() == "Villa Rosa"
        assert not p.page.locator("[data-testid=empty]").is_visible()


def test_the_gallery_link_with_mode_slideshow_opens_the_slideshow(open_page):
    with gf.GalleryServer(poll_seconds=0.5) as server:
        ev = seed(server, 2)
        p = open_page("1920")
        p.page.goto(f"{server.url}/?event=demo&mode=slideshow")
        p.page.wait_for_selector("html.slideshow[data-state='showing']")
        assert p.page.url == f"{server.url}/slideshow?event=demo&mode=slideshow"
        assert on_stage(p) == ev.names()[0]
