"""An event shown in capture order: a photo taken earlier than some on screen goes to its place in
the grid (not the top), the tiles the guest is looking at do not move, and while the guest is
scrolled down it waits behind the "new photos" pill."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from support import gallery as gf
from support.browser import CHROMIUM
from support.gallery_pages import goto, seed

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"),
]


@pytest.fixture
def server() -> Iterator[gf.GalleryServer]:
    with gf.GalleryServer(poll_seconds=0.3) as s:
        yield s


def rects(p) -> dict[str, tuple[int, int]]:  # noqa: ANN001
    """Each tile's place on the screen (viewport coordinates)."""
    return p.page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.tile')]
        .map(t => { const r = t.getBoundingClientRect();
                    return [t.dataset.name, [Math.round(r.left), Math.round(r.top)]]; }))""")


def list_order(p) -> list[str]:  # noqa: ANN001
    return p.page.evaluate("() => window.gallery.state.list.map(e => e.name)")


def test_an_earlier_photo_goes_to_its_place_without_moving_what_is_on_screen(server, open_page):
    ev = seed(server, 30, order="capture")
    p = open_page("phone")
    goto(p, server)
    before = rects(p)
    visible = [n for n, (_, top) in before.items() if top < 844]
    assert 0 < len(visible) < 24
    ev.add("IMG_EARLIER", at=26)  # taken before the 27th photo, below the screen
    server.publish("demo")
    p.page.wait_for_selector('.tile[data-name="IMG_EARLIER"]', state="attached")
    assert list_order(p).index("IMG_EARLIER") == 26
    after = rects(p)
    for name in visible:
        assert after[name] == before[name], f"{name} moved on screen"
    assert after["IMG_EARLIER"][1] > 844, "entered below the fold, at its place, not at the top"
    assert p.page.is_hidden("#new-pill")


def test_a_place_on_screen_waits_for_the_guest(server, open_page):
    ev = seed(server, 12, order="capture")
    p = open_page("phone")
    goto(p, server)
    before = rects(p)
    ev.add("IMG_EARLIER", at=2)  # between two photos the guest is looking at
    server.publish("demo")
    p.page.wait_for_selector("#new-pill:not([hidden])")
    assert rects(p) == before, "nothing on screen moved"
    p.page.tap("#new-pill")
    p.page.wait_for_selector('.tile[data-name="IMG_EARLIER"]')
    assert list_order(p).index("IMG_EARLIER") == 2
    p.page.wait_for_selector("#new-pill", state="hidden")


def test_while_scrolled_down_it_waits_behind_the_pill(server, open_page):
    ev = seed(server, 24, order="capture")
    p = open_page("phone")
    goto(p, server)
    p.page.mouse.wheel(0, 1800)
    p.page.wait_for_function("() => document.querySelector('#grid').getBoundingClientRect().top < -600")
    time.sleep(0.3)
    anchor = rects(p)
    ev.add("IMG_EARLIER", at=2)
    server.publish("demo")
    p.page.wait_for_selector("#new-pill:not([hidden])")
    assert p.page.text_content("#new-pill-text") == "1 new photo"
    assert p.page.query_selector('.tile[data-name="IMG_EARLIER"]') is None
    assert rects(p) == anchor, "nothing on screen moved"
    p.page.click("#new-pill")
    p.page.wait_for_selector('.tile[data-name="IMG_EARLIER"]')
    assert list_order(p).index("IMG_EARLIER") == 2
    p.page.wait_for_selector("#new-pill", state="hidden")
