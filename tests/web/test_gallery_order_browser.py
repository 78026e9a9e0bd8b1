"""A stable gallery while photos arrive: the lightbox numbers and steps through the photos in the
order they are on the screen, follows photos arriving while it is open, and closes with a word
when the photo on show is taken down."""

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


def on_screen(p) -> list[str]:  # noqa: ANN001
    """Tile names in reading order: by the tile's top, then left to right (ghosts left out)."""
    return p.page.evaluate("""() => [...document.querySelectorAll('.tile:not(.tile--ghost)')]
        .map(t => ({n: t.dataset.name, top: t.offsetTop, left: t.getBoundingClientRect().left}))
        .sort((a, b) => a.top - b.top || a.left - b.left).map(t => t.n)""")


def counter(p) -> str:  # noqa: ANN001
    return p.page.text_content("#lb-counter")


def walk(p, n: int) -> list[str]:  # noqa: ANN001
    seen = [p.page.get_attribute("#lb-img", "data-name")]
    for _ in range(n - 1):
        p.page.keyboard.press("ArrowRight")
        seen.append(p.page.get_attribute("#lb-img", "data-name"))
    return seen


@pytest.mark.parametrize("kind", ["phone", "desktop"])
def test_lightbox_follows_the_screen_after_live_inserts(server, open_page, kind):
    ev = seed(server, 9, mixed=True)
    p = open_page(kind)
    goto(p, server)
    # Photos arrive while the guest is at the top: they enter at the top of the columns, which
    # pushes tiles down by different amounts, so the screen order is no longer the manifest's.
    for i, (w, h) in enumerate([(800, 1400), (1200, 700), (900, 1300)]):
        ev.add(f"IMG_NEW_{i}", w, h)
    server.publish("demo")
    p.page.wait_for_selector('.tile[data-name="IMG_NEW_2"]')
    time.sleep(0.8)  # the fade-in
    screen = on_screen(p)
    assert len(screen) == 12
    p.page.locator(f'.tile[data-name="{screen[0]}"]').click()
    p.page.wait_for_selector("#lightbox.is-open")
    assert counter(p) == "1 / 12"
    assert walk(p, 12) == screen
    assert counter(p) == "12 / 12"
    p.page.keyboard.press("ArrowRight")  # the last one: stays
    assert p.page.get_attribute("#lb-img", "data-name") == screen[-1]


def test_photos_arriving_while_the_lightbox_is_open_renumber_it(server, open_page):
    ev = seed(server, 5)
    p = open_page("phone")
    goto(p, server)
    first = on_screen(p)[0]
    p.page.locator(f'.tile[data-name="{first}"]').tap()
    p.page.wait_for_selector("#lightbox.is-open")
    assert counter(p) == "1 / 5"
    ev.add("IMG_ARRIVED")
    server.publish("demo")
    p.page.wait_for_selector('.tile[data-name="IMG_ARRIVED"]')
    p.page.wait_for_function("() => document.querySelector('#lb-counter').textContent.endsWith('/ 6')")
    assert p.page.get_attribute("#lb-img", "data-name") == first  # the guest's photo stays on show
    screen = on_screen(p)
    assert counter(p) == f"{screen.index(first) + 1} / 6"
    # the new photo is reachable with the arrows, where it is on the screen
    p.page.keyboard.press("Home")  # (no such key: nothing happens)
    for _ in range(6):
        p.page.keyboard.press("ArrowLeft")
    assert walk(p, 6) == screen
    assert p.page.text_content("#count") == "6 photos"


def test_the_photo_on_show_taken_down_closes_the_lightbox_with_a_word(server, open_page):
    ev = seed(server, 4)
    p = open_page("phone")
    goto(p, server)
    name = on_screen(p)[1]
    p.page.locator(f'.tile[data-name="{name}"]').tap()
    p.page.wait_for_selector("#lightbox.is-open")
    ev.remove(name)
    server.publish("demo")
    p.page.wait_for_selector("#lightbox", state="hidden")
    assert p.page.text_content("#notice") == "The photographer took that photo down."
    assert p.page.evaluate("location.hash") == ""
    p.page.wait_for_selector(f'.tile[data-name="{name}"]', state="detached")
    p.shot("taken-down")


def test_share_gives_the_photo_its_own_link(server, open_page):
    seed(server, 3)
    p = open_page("phone")
    p.page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    goto(p, server)
    name = on_screen(p)[0]
    p.page.locator(f'.tile[data-name="{name}"]').tap()
    p.page.wait_for_selector("#lightbox.is-open")
    # No share sheet in headless Chromium: the link is copied, and the guest is told.
    p.page.evaluate("() => { delete Navigator.prototype.share; }")
    share = p.page.locator("#lb-share")
    box = share.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    share.tap()
    p.page.wait_for_function("() => document.querySelector('#notice').textContent.startsWith('Link copied')")
    assert p.page.evaluate("navigator.clipboard.readText()") == f"{server.url}/p/demo/{name}"
    p.shot("share-copied")
