"""A gallery with a password, end to end in Chromium against the local gallery server (the same
sign-in, cookie and 401s as the Pages Function) reading a real bucket (moto): the guest is asked
once, a wrong password is said plainly, nothing of the event is loaded before, and the gallery and
the slideshow open with the cookie afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from support import gallery as gf
from support.browser import CHROMIUM
from support.wsgi import serving_app

from appliance.dev.gallery_server import create_app
from appliance.publish import gallery_access

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"),
]

PASSWORD = "garden party"


@pytest.fixture
def gallery(config, s3, bucket) -> Iterator[str]:  # noqa: ANN001
    prefix = config.bucket.prefix.strip("/")
    ev = gf.Event("gala", title="Ana & Luís")
    for i in range(6):
        ev.add(f"IMG_{100 + i}", *[(1200, 800), (800, 1200)][i % 2])
    put = lambda rest, body, ctype: s3.put_object(Bucket=bucket, Key=f"{prefix}/gala/{rest}",  # noqa: E731
                                                  Body=body, ContentType=ctype)
    for p in ev.photos:
        put(f"photos/{p.name}.jpg", gf.make_jpeg(p.w, p.h, p.seed, p.name), "image/jpeg")
        put(f"thumbs/{p.name}.jpg", gf.make_jpeg(p.tw, p.th, p.seed, p.name), "image/jpeg")
    put("manifest.json", json.dumps(ev.manifest()).encode(), "application/json")
    put("access.json", gallery_access.document(gallery_access.make_record(PASSWORD)), "application/json")
    with serving_app(create_app(config, s3)) as base:
        yield base


def test_guest_is_asked_once_and_sees_nothing_before(gallery, open_page):
    p = open_page("phone")
    loaded: list[tuple[str, int]] = []
    p.page.on("response", lambda r: loaded.append((r.url, r.status)) if "/photo/" in r.url else None)
    p.page.goto(f"{gallery}/?event=gala")
    p.page.wait_for_selector("[data-testid=lock]")
    assert p.page.query_selector(".tile") is None
    assert "Ana" not in p.page.text_content("body")
    assert all(status == 401 for _, status in loaded), loaded
    p.shot("gallery-password")

    p.page.fill("[data-testid=lock-password]", "garden")
    p.page.click("[data-testid=lock-go]")
    p.page.wait_for_function("() => document.querySelector('[data-testid=lock-error]').textContent !== ''")
    assert "not right" in p.page.text_content("[data-testid=lock-error]")

    p.page.fill("[data-testid=lock-password]", PASSWORD)
    p.page.click("[data-testid=lock-go]")
    p.page.wait_for_selector("html[data-state='ready']")
    p.page.wait_for_function("() => document.querySelectorAll('.tile.is-loaded').length === 6")
    assert p.page.query_selector("[data-testid=lock]") is None
    assert p.page.text_content("#title") == "Ana & Luís"
    cookie = next(c for c in p.page.context.cookies() if c["name"] == "ga_gala")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    p.shot("gallery-password-open")

    p.page.reload()  # the cookie holds: not asked again
    p.page.wait_for_selector("html[data-state='ready']")
    assert p.page.query_selector("[data-testid=lock]") is None


def test_the_slideshow_asks_on_the_venue_screen(gallery, open_page):
    p = open_page("1920")
    p.page.goto(f"{gallery}/slideshow?event=gala")
    p.page.wait_for_selector("[data-testid=lock]")
    p.page.keyboard.type("q")  # typing into the page's password field is not a slideshow key
    assert p.page.is_visible("[data-testid=qr]")
    p.page.fill("[data-testid=lock-password]", PASSWORD)
    p.page.keyboard.press("Enter")
    p.page.wait_for_selector("[data-testid=lock]", state="detached")
    p.page.wait_for_function(
        "() => [...document.querySelectorAll('.slide__img')].some(i => i.complete && i.naturalWidth > 0)")
    p.page.wait_for_timeout(1500)  # the crossfade
    p.shot("slideshow-password-open")
