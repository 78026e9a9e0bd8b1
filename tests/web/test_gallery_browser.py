"""The public gallery (web/) in a real browser: Debian's Chromium through Playwright.

A small threaded server (tests/support/gallery.py) serves web/ with a fast
config.js and a /photo/<event>/... tree of real JPEGs with ETag/304. Every
test runs on an iPhone-sized and a desktop viewport where it matters, and
saves screenshots to tests/artifacts/.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from support import gallery as gf
from support.browser import CHROMIUM
from support.gallery_pages import Page, goto, seed

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"),
]

POLL = 0.4  # seconds between polls in the served config.js


@pytest.fixture
def server() -> Iterator[gf.GalleryServer]:
    with gf.GalleryServer(poll_seconds=POLL) as s:
        yield s


def visual_order(p: Page) -> list[str]:
    """Tile names in reading order: by row (top), then left to right."""
    return p.page.evaluate("""() => [...document.querySelectorAll('.tile:not(.tile--ghost)')]
        .map(t => { const r = t.getBoundingClientRect();
                    return {n: t.dataset.name, top: Math.round(r.top + scrollY), left: r.left}; })
        .sort((a, b) => a.top - b.top || a.left - b.left).map(t => t.n)""")


def rect(p: Page, name: str) -> dict[str, float]:
    return p.page.evaluate(
        """n => { const r = document.querySelector(`.tile[data-name="${n}"]`).getBoundingClientRect();
                  return {top: r.top, left: r.left, width: r.width, height: r.height}; }""", name)


def wait_polls(p: Page, n: int = 2) -> None:
    """Wait until the page has finished n more manifest polls."""
    start = p.page.evaluate("window.gallery.stats.polls")
    p.page.wait_for_function(
        "n => window.gallery.stats.polls >= n && !window.gallery.state.inFlight", arg=start + n)


def wait_loaded(p: Page) -> None:
    """Wait for every image currently in the viewport to finish loading."""
    p.page.wait_for_function("""() => [...document.querySelectorAll('.tile')].filter(t => {
            const r = t.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; })
        .every(t => t.classList.contains('is-loaded'))""")


# ------------------------------------------------------------------ tests


@pytest.mark.parametrize("kind", ["phone", "desktop"])
def test_photos_newest_first_with_title(server, open_page, kind):
    ev = seed(server, 14)
    p = open_page(kind)
    goto(p, server)
    assert visual_order(p) == ev.names()  # same aspect: strict reading order
    assert p.page.text_content("#title") == "Anna & Ben"
    assert "Villa Rosa" in p.page.text_content("#subtitle")
    assert p.page.text_content("#count") == "14 photos"
    assert p.page.title() == "Anna & Ben · Live gallery"
    cols = p.page.evaluate("document.querySelectorAll('#grid .col').length")
    assert cols == (2 if kind == "phone" else 3)
    # Space is reserved from the manifest: tiles have their final size before loading.
    r = rect(p, ev.names()[0])
    assert abs(r["height"] - r["width"] * 800 / 1200) < 1.5
    img = p.page.locator(f'.tile[data-name="{ev.names()[0]}"] img')
    assert img.get_attribute("loading") in ("eager", "lazy")
    assert p.page.locator(f'.tile[data-name="{ev.names()[-1]}"] img').get_attribute("loading") == "lazy"
    srcset = img.get_attribute("srcset")
    assert "thumbs/IMG_7013.jpg 480w" in srcset and "photos/IMG_7013.jpg 1200w" in srcset
    assert img.get_attribute("sizes")
    wait_loaded(p)
    p.shot("gallery")
    p.shot("gallery-full", full_page=True)


@pytest.mark.parametrize("kind", ["phone", "desktop"])
def test_hero_and_mixed_shapes_look(server, open_page, kind):
    ev = seed(server, 24, mixed=True)
    ev.hero = f"photos/{ev.names()[5]}.jpg"
    server.publish("demo")
    p = open_page(kind)
    goto(p, server)
    p.page.wait_for_selector("#masthead.masthead--hero #hero.is-loaded")
    wait_loaded(p)
    # Columns stay balanced: no column is more than ~one tile longer than another.
    heights = p.page.evaluate(
        "[...document.querySelectorAll('#grid .col')].map(c => c.getBoundingClientRect().height)")
    width = p.page.evaluate("document.querySelector('#grid .col').getBoundingClientRect().width")
    assert max(heights) - min(heights) <= width * 1.5 + 1
    p.shot("hero")
    p.page.evaluate("window.scrollTo(0, document.querySelector('#grid').offsetTop - 10)")
    time.sleep(0.3)
    wait_loaded(p)
    p.shot("hero-grid")


@pytest.mark.parametrize("kind", ["phone", "desktop"])
def test_new_photo_appears_and_removed_disappears_without_reload(server, open_page, kind):
    ev = seed(server, 6)
    p = open_page(kind)
    goto(p, server)
    p.page.evaluate("window.__sameDocument = 'yes'")
    old_node_marker = ev.names()[0]
    p.page.evaluate(f"document.querySelector('.tile[data-name=\"{old_node_marker}\"]').__mark = 42")

    ev.add("IMG_NEW_1")
    server.publish("demo")
    p.page.wait_for_selector('.tile[data-name="IMG_NEW_1"]')
    new = p.page.locator('.tile[data-name="IMG_NEW_1"]')
    assert "tile--new" in new.get_attribute("class")
    time.sleep(0.8)  # let the fade-in (which scales the tile) finish
    tops = p.page.evaluate("[...document.querySelectorAll('.tile')].map(t => t.getBoundingClientRect().top)")
    assert abs(rect(p, "IMG_NEW_1")["top"] - min(tops)) < 1  # at the top
    assert p.page.text_content("#count") == "7 photos"
    p.page.wait_for_selector('.tile[data-name="IMG_NEW_1"].is-loaded')
    p.shot("new-photo")

    gone = ev.names()[-1]
    ev.remove(gone)
    server.publish("demo")
    p.page.wait_for_selector(f'.tile[data-name="{gone}"]', state="detached")
    assert p.page.text_content("#count") == "6 photos"
    assert sorted(visual_order(p)) == sorted(ev.names())
    # Existing tiles were kept, not rebuilt; and the page never reloaded.
    assert p.page.evaluate(f"document.querySelector('.tile[data-name=\"{old_node_marker}\"]').__mark") == 42
    assert p.page.evaluate("window.__sameDocument") == "yes"


@pytest.mark.parametrize("kind", ["phone", "desktop"])
def test_no_layout_shift_when_photos_arrive_while_scrolled(server, open_page, kind):
    ev = seed(server, 50, mixed=True)
    p = open_page(kind)
    goto(p, server)
    p.page.evaluate("window.scrollTo(0, document.querySelector('#grid').offsetTop + 1400)")
    time.sleep(0.3)
    # A tile in the middle of the viewport, and one above the viewport to unpublish.
    watched, above = p.page.evaluate("""() => {
        const ts = [...document.querySelectorAll('.tile')]
            .map(t => [t.dataset.name, t.getBoundingClientRect()]);
        const mid = ts.find(([n, r]) => r.top > 150 && r.bottom < innerHeight - 50);
        const up = ts.find(([n, r]) => r.bottom < -20);
        return [mid[0], up[0]]; }""")
    before = rect(p, watched)
    y0 = p.page.evaluate("scrollY")

    for i in range(3):
        ev.add(f"IMG_LATE_{i}")
    ev.remove(above)
    server.publish("demo")
    p.page.wait_for_selector("#new-pill:not([hidden])")
    assert p.page.text_content("#new-pill") .strip() == "3 new photos"
    wait_polls(p, 2)
    assert p.page.evaluate("scrollY") == y0
    after = rect(p, watched)
    assert after == before, f"{watched} moved: {before} -> {after}"
    assert p.page.locator('.tile[data-name^="IMG_LATE_"]').count() == 0
    assert p.page.text_content("#count") == "52 photos"
    # The unpublished tile above the viewport is hidden in place (no shift), not visible.
    assert p.page.evaluate(
        f"!document.querySelector('.tile[data-name=\"{above}\"]:not(.tile--ghost)')")
    p.shot("new-pill")

    p.page.click("#new-pill")
    p.page.wait_for_selector('.tile[data-name="IMG_LATE_0"]')
    p.page.wait_for_selector("#new-pill", state="hidden")
    p.page.wait_for_function("() => document.querySelector('#grid').getBoundingClientRect().top > -60")
    assert p.page.locator('.tile[data-name^="IMG_LATE_"]').count() == 3
    assert p.page.locator(f'.tile[data-name="{above}"]').count() == 0
    time.sleep(0.8)
    wait_loaded(p)
    p.shot("after-pill")


def swipe(page: Any, x0: float, y0: float, x1: float, y1: float, steps: int = 8) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]})
    for i in range(1, steps + 1):
        x = x0 + (x1 - x0) * i / steps
        y = y0 + (y1 - y0) * i / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        time.sleep(0.01)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


@pytest.mark.parametrize("kind", ["phone", "desktop"])
def test_lightbox_open_navigate_download_close(server, open_page, kind):
    ev = seed(server, 8, mixed=True)
    names = ev.names()
    p = open_page(kind)
    goto(p, server)
    tile = p.page.locator(f'.tile[data-name="{names[1]}"]')
    if kind == "phone":
        tile.tap()
    else:
        tile.click()
    p.page.wait_for_selector("#lightbox.is-open")
    img = p.page.locator("#lb-img")
    assert img.get_attribute("data-name") == names[1]
    p.page.wait_for_function("() => document.querySelector('#lb-img').naturalWidth > 0")
    dl = p.page.locator("#lb-download")
    assert dl.get_attribute("download") == f"{names[1]}.jpg"
    assert dl.get_attribute("href") == f"/photo/demo/photos/{names[1]}.jpg"
    assert p.page.text_content("#lb-counter") == "2 / 8"
    time.sleep(0.3)
    p.shot("lightbox")

    p.page.keyboard.press("ArrowRight")
    assert img.get_attribute("data-name") == names[2]
    p.page.keyboard.press("ArrowLeft")
    p.page.keyboard.press("ArrowLeft")
    assert img.get_attribute("data-name") == names[0]
    p.page.keyboard.press("ArrowLeft")  # already the first: stays
    assert img.get_attribute("data-name") == names[0]

    if kind == "phone":
        swipe(p.page, 300, 420, 60, 430)  # swipe left: next photo
        p.page.wait_for_function("n => document.querySelector('#lb-img').dataset.name === n", arg=names[1])
        swipe(p.page, 60, 420, 320, 415)  # swipe right: previous
        p.page.wait_for_function("n => document.querySelector('#lb-img').dataset.name === n", arg=names[0])
        p.page.locator("#lb-close").tap()
        p.page.wait_for_selector("#lightbox", state="hidden")
        tile.tap()
        p.page.wait_for_selector("#lightbox.is-open")

    p.page.keyboard.press("Escape")
    p.page.wait_for_selector("#lightbox", state="hidden")
    assert p.page.evaluate("location.hash") == ""
    assert not p.page.evaluate("document.documentElement.classList.contains('has-lightbox')")

    # The browser/phone back button closes the lightbox too.
    tile.click()
    p.page.wait_for_selector("#lightbox.is-open")
    assert p.page.evaluate("location.hash") == f"#photo={names[1]}"
    p.page.go_back()
    p.page.wait_for_selector("#lightbox", state="hidden")


@pytest.mark.parametrize("kind", ["phone"])
def test_broken_image_is_removed_from_layout(server, open_page, kind):
    ev = server.event("demo")
    for i in range(7):
        ev.add(f"IMG_{100 + i}", broken=(i in (2, 5)))
    server.publish("demo")
    p = open_page(kind)
    goto(p, server)
    for name in ("IMG_102", "IMG_105"):
        p.page.wait_for_selector(f'.tile[data-name="{name}"]', state="detached")
    assert p.page.locator(".tile").count() == 5
    assert sorted(visual_order(p)) == sorted(n for n in ev.names() if n not in ("IMG_102", "IMG_105"))
    # A new manifest does not bring the broken ones back.
    ev.add("IMG_200")
    server.publish("demo")
    p.page.wait_for_selector('.tile[data-name="IMG_200"]')
    wait_polls(p, 2)
    assert p.page.locator('.tile[data-name="IMG_102"]').count() == 0
    wait_loaded(p)
    p.shot("broken-hidden")


def test_idle_polling_is_conditional_and_gets_304(server, open_page):
    seed(server, 3)
    p = open_page("desktop")
    goto(p, server)
    t0 = time.monotonic()
    wait_polls(p, 5)
    reqs = server.manifest_requests("demo", since=t0)
    assert len(reqs) >= 4
    assert all(r.status == 304 for r in reqs), [(r.status, r.if_none_match) for r in reqs]
    assert all(r.if_none_match for r in reqs)
    assert sum(r.body_bytes for r in reqs) == 0  # nothing changed: no body at all
    assert p.page.evaluate("window.gallery.stats.notModified") >= 4
    # Interval is pollSeconds plus 0-20% jitter: never shorter than pollSeconds.
    gaps = [b.at - a.at for a, b in zip(reqs, reqs[1:], strict=False)]
    assert all(POLL * 0.95 < g < POLL * 1.2 + 0.6 for g in gaps), gaps


def test_polling_pauses_while_hidden_and_catches_up(server, open_page):
    ev = seed(server, 3)
    p = open_page("desktop")
    goto(p, server)
    set_hidden = """h => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => h});
        Object.defineProperty(document, 'visibilityState', {configurable: true,
            get: () => h ? 'hidden' : 'visible'});
        document.dispatchEvent(new Event('visibilitychange')); }"""
    p.page.evaluate(set_hidden, True)
    time.sleep(POLL * 1.5)  # let an in-flight poll finish
    t0 = time.monotonic()
    ev.add("IMG_WHILE_HIDDEN")
    server.publish("demo")
    time.sleep(POLL * 5)
    assert server.manifest_requests("demo", since=t0) == []
    assert p.page.locator('.tile[data-name="IMG_WHILE_HIDDEN"]').count() == 0
    t1 = time.monotonic()
    p.page.evaluate(set_hidden, False)
    p.page.wait_for_selector('.tile[data-name="IMG_WHILE_HIDDEN"]')
    first = server.manifest_requests("demo", since=t1)[0]
    assert first.at - t1 < POLL * 0.5  # polled at once, not after a full interval


def test_friendly_message_without_event(server, open_page):
    p = open_page("phone")
    goto(p, server, query="", state="no-event")
    assert "QR code" in p.page.text_content("#notice")
    p.shot("no-event")
    goto(p, server, query="?event=../../etc", state="no-event")
    assert server.manifest_requests("demo") == []


def test_default_event_from_config_and_empty_and_missing_gallery(server, open_page):
    server.default_event = "demo"
    server.event("demo")
    server.publish("demo")
    p = open_page("phone")
    goto(p, server, query="", state="empty")
    assert "No photos yet" in p.page.text_content("#notice")
    p.shot("empty")
    server.events["demo"].add("IMG_FIRST")
    server.publish("demo")
    p.page.wait_for_selector('.tile[data-name="IMG_FIRST"]')
    p.page.wait_for_selector("html[data-state='ready']")
    assert p.page.is_hidden("#notice")
    goto(p, server, query="?event=not-yet", state="missing")
    assert "No photos yet" in p.page.text_content("#notice")


def test_thousands_of_photos_render_incrementally(server, open_page):
    ev = seed(server, 2600, mixed=True)
    p = open_page("phone")
    t0 = time.monotonic()
    goto(p, server)
    assert time.monotonic() - t0 < 5
    first = p.page.locator(".tile").count()
    assert 0 < first <= 180, first
    assert p.page.text_content("#count") == "2,600 photos"
    for _ in range(6):
        p.page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        time.sleep(0.25)
    more = p.page.locator(".tile").count()
    assert more > first
    assert more < 2600
    # A live update on a big gallery keeps the existing tiles and is quick.
    y = p.page.evaluate("scrollY")
    ev.add("IMG_BIG_NEW")
    server.publish("demo")
    p.page.wait_for_selector("#new-pill:not([hidden])")
    assert p.page.evaluate("scrollY") == y
    assert p.page.text_content("#new-pill").strip() == "1 new photo"


def test_one_column_on_very_narrow_phones_and_relayout_on_rotate(server, browser):
    ev = seed(server, 9, mixed=True)
    ctx = browser.new_context(viewport={"width": 340, "height": 700}, device_scale_factor=2,
                              is_mobile=True, has_touch=True)
    try:
        page = ctx.new_page()
        page.goto(server.url + "/?event=demo")
        page.wait_for_selector("html[data-state='ready']")
        assert page.evaluate("document.querySelectorAll('#grid .col').length") == 1
        assert page.evaluate("""() => [...document.querySelectorAll('.tile')]
            .map(t => t.dataset.name)""") == ev.names()
        page.set_viewport_size({"width": 700, "height": 340})  # rotated: 2 columns
        page.wait_for_function("() => document.querySelectorAll('#grid .col').length === 2")
        assert page.locator(".tile").count() == 9
    finally:
        ctx.close()


def test_before_first_publish_no_photos_yet_then_first_photo_arrives(server, open_page):
    """The manifest is 404 until the first publish: a friendly note, polling at the normal rhythm
    (not backing off as for errors), and the first photo appears like any later one."""
    ev = server.event("party", title="Office party")
    p = open_page("phone")
    t0 = time.monotonic()
    goto(p, server, query="?event=party", state="missing")
    notice = p.page.text_content("#notice")
    assert "No photos yet" in notice and "error" not in p.page.get_attribute("#notice", "class")
    assert p.page.is_visible("#live")
    p.shot("missing")
    wait_polls(p, 4)
    reqs = server.manifest_requests("party", since=t0)
    assert len(reqs) >= 5 and all(r.status == 404 for r in reqs)
    gaps = [b.at - a.at for a, b in zip(reqs, reqs[1:], strict=False)]
    assert all(g < POLL * 1.2 + 0.6 for g in gaps), gaps  # no exponential backoff
    assert p.page.evaluate("window.gallery.stats.errors") == 0

    ev.add("IMG_0001")
    t1 = time.monotonic()
    server.publish("party")
    p.page.wait_for_selector('.tile[data-name="IMG_0001"].is-loaded')
    assert time.monotonic() - t1 < POLL * 1.2 + 1.5
    p.page.wait_for_selector("html[data-state='ready']")
    assert p.page.is_hidden("#notice")
    assert p.page.text_content("#title") == "Office party"
    assert p.page.text_content("#count") == "1 photo"


def test_each_event_has_its_own_gallery_url(server, open_page):
    """/?event=<slug> per event; each page reads only /photo/<slug>/... and updates on its own."""
    wedding = server.event("anna-ben", title="Anna & Ben")
    party = server.event("office-party", title="Office party", subtitle=None)
    for i in range(5):
        wedding.add(f"IMG_{100 + i}")
    for i in range(3):
        party.add(f"DSC_{200 + i}", 800, 1200)
    party.add("IMG_100")  # the same name in another event is another photo
    server.publish("anna-ben")
    server.publish("office-party")

    a, b = open_page("desktop"), open_page("phone")
    goto(a, server, query="?event=anna-ben")
    goto(b, server, query="?event=office-party")
    assert a.page.text_content("#title") == "Anna & Ben"
    assert b.page.text_content("#title") == "Office party"
    assert b.page.is_hidden("#subtitle")
    assert sorted(visual_order(a)) == sorted(wedding.names())
    assert sorted(visual_order(b)) == sorted(party.names())
    srcs = b.page.evaluate("[...document.querySelectorAll('.tile img')].map(i => i.getAttribute('src'))")
    assert srcs and all(s.startswith("/photo/office-party/thumbs/") for s in srcs), srcs

    t0 = time.monotonic()
    party.add("DSC_NEW")
    server.publish("office-party")
    b.page.wait_for_selector('.tile[data-name="DSC_NEW"]')
    wait_polls(a, 2)
    assert a.page.locator('.tile[data-name="DSC_NEW"]').count() == 0
    assert a.page.text_content("#count") == "5 photos"
    paths = {e.path for e in server.log if e.at >= t0 and e.path.endswith("manifest.json")}
    assert paths == {"/photo/anna-ben/manifest.json", "/photo/office-party/manifest.json"}
    wait_loaded(b)
    b.shot("second-event")


LAYOUT_SHIFT_OBSERVER = """
window.__shifts = [];
new PerformanceObserver(list => {
  for (const e of list.getEntries()) {
    if (!e.hadRecentInput) window.__shifts.push({value: e.value,
      nodes: (e.sources || []).map(s => s.node && (s.node.dataset && s.node.dataset.name
        || s.node.id || s.node.className || s.node.nodeName))});
  }
}).observe({type: 'layout-shift', buffered: true});
"""


def layout_shifts(p: Page) -> tuple[float, list[Any]]:
    time.sleep(0.2)  # let the observer deliver the last frames' entries
    shifts = p.page.evaluate("window.__shifts")
    return sum(x["value"] for x in shifts), shifts


@pytest.mark.parametrize("kind", ["phone", "desktop"])
def test_no_layout_shift_while_images_load_and_pages_render(server, open_page, kind):
    """Browser-measured Cumulative Layout Shift (layout-shift entries) stays 0 while slow images
    load, the title/subtitle/count arrive, more pages render on scroll, and photos are published
    and unpublished while the guest is scrolled down."""
    server.photo_delay = 0.25
    ev = seed(server, 150, mixed=True)
    p = open_page(kind)
    p.page.add_init_script(LAYOUT_SHIFT_OBSERVER)
    goto(p, server)
    wait_loaded(p)
    cls, shifts = layout_shifts(p)
    assert cls < 0.001, shifts

    for y in (1500, 3500, 6000, 9000):
        p.page.evaluate(f"window.scrollTo(0, {y})")
        time.sleep(0.3)
    wait_loaded(p)
    assert p.page.locator(".tile").count() > 60  # a second page was rendered
    ev.add("IMG_SCROLLED_NEW")
    above = p.page.evaluate("""() => [...document.querySelectorAll('.tile')]
        .find(t => t.getBoundingClientRect().bottom < -50).dataset.name""")
    ev.remove(above)
    server.publish("demo")
    p.page.wait_for_selector("#new-pill:not([hidden])")
    wait_polls(p, 1)
    cls, shifts = layout_shifts(p)
    assert cls < 0.001, shifts


def test_custom_domain_cross_origin_polls_revalidate_without_preflight(server, open_page):
    """photoBase on another origin (an R2 custom domain): no custom header, so no CORS
    preflight; the browser's cache revalidates with the ETag and gets 304s (no body)."""
    server.photo_origin = server.other_origin
    ev = seed(server, 6)
    p = open_page("desktop")
    goto(p, server)
    img = p.page.locator(f'.tile[data-name="{ev.names()[0]}"] img').get_attribute("src")
    assert img.startswith(server.other_origin + "/photo/demo/thumbs/")
    wait_loaded(p)
    t0 = time.monotonic()
    wait_polls(p, 4)
    reqs = server.manifest_requests("demo", since=t0)
    assert len(reqs) >= 3
    assert all(r.origin == server.url for r in reqs)
    assert all(r.status == 304 and r.if_none_match for r in reqs), [(r.status, r.if_none_match) for r in reqs]
    assert sum(r.body_bytes for r in reqs) == 0
    assert server.preflights() == []
    assert p.page.evaluate("window.gallery.stats.changed") == 1

    ev.add("IMG_CROSS")
    server.publish("demo")
    p.page.wait_for_selector('.tile[data-name="IMG_CROSS"].is-loaded')

    # Download from another origin: fetched with CORS and saved as a blob under its name.
    p.page.click('.tile[data-name="IMG_CROSS"]')
    p.page.wait_for_selector("#lightbox.is-open")
    with p.page.expect_download() as dl:
        p.page.click("#lb-download")
    assert dl.value.suggested_filename == "IMG_CROSS.jpg"
    assert server.preflights() == []


@pytest.mark.parametrize("kind", ["phone", "desktop"])
def test_grid_loads_thumbnails_not_web_images(server, open_page, kind):
    """srcset offers thumbnail and web size; `sizes` steers tiles to the thumbnail on a 3x phone
    (portrait thumbnails are only 320px wide) and for landscape on a 1x desktop."""
    seed(server, 12, mixed=True)
    p = open_page(kind)
    goto(p, server)
    wait_loaded(p)
    picked = p.page.evaluate("""() => [...document.querySelectorAll('.tile img')]
        .filter(i => i.currentSrc).map(i => [i.closest('.tile').dataset.name,
            i.naturalWidth > i.naturalHeight, i.currentSrc.includes('/thumbs/')])""")
    assert picked
    if kind == "phone":
        assert all(thumb for _, _, thumb in picked), picked
        assert not [e.path for e in server.log if "/photos/" in e.path]
    else:
        assert all(thumb for _, landscape, thumb in picked if landscape), picked


def test_colour_grid_placeholder_then_webp_in_lightbox(server, open_page):
    """Before a thumbnail arrives the tile shows the manifest's 3x3 colour grid (`ph`); the
    lightbox shows the WebP when the manifest has one, and downloads stay JPEG."""
    server.photo_delay = 3.0  # thumbnails are slow: the placeholders are what the guest sees
    ev = server.event("demo")
    for i in range(4):
        ev.add(f"IMG_{300 + i}", webp=True)
    server.publish("demo")
    p = open_page("phone")
    goto(p, server)
    name = ev.names()[0]
    tile = p.page.locator(f'.tile[data-name="{name}"]')
    assert tile.evaluate("t => getComputedStyle(t).backgroundImage").startswith('url("data:image/png')
    assert "is-loaded" not in tile.get_attribute("class")
    shot = Image.open(io.BytesIO(tile.screenshot())).convert("RGB")
    top, _ = gf.palette(ev.photos[0].seed)
    sky = shot.getpixel((shot.width // 2, shot.height // 12))
    assert all(abs(a - b) <= 24 for a, b in zip(sky, top, strict=True)), (sky, top)
    p.shot("placeholders")

    server.photo_delay = 0
    p.page.wait_for_selector(f'.tile[data-name="{name}"].is-loaded', timeout=15_000)
    tile.tap()
    p.page.wait_for_selector("#lightbox.is-open")
    p.page.wait_for_function("() => document.querySelector('#lb-img').naturalWidth > 0")
    assert p.page.get_attribute("#lb-img", "src") == f"/photo/demo/photos/{name}.webp"
    assert p.page.get_attribute("#lb-download", "href") == f"/photo/demo/photos/{name}.jpg"
    assert [e.status for e in server.log if e.path.endswith(f"{name}.webp")][0] == 200
