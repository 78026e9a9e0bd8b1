""""Find my photos" in Chromium: a whole search from a selfie file to the filtered gallery, with
every request of the page inspected (the selfie goes nowhere), several faces (asked which), no face
(said plainly), and nothing of the face model fetched before a guest asks for it."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from support import face_gallery as fg
from support import gallery as gf
from support.browser import CHROMIUM
from support.gallery_pages import goto

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"),
    pytest.mark.skipif(fg.unavailable() is not None, reason=str(fg.unavailable())),
]

# The event: real photos of several people (Obama twice), and drawn ones with nobody in them.
PHOTOS = ("real/fr-obama.jpg", "real/fr-obama2.jpg", "real/fr-biden.jpg", "real/fa-sample1.jpg",
          "real/fa-sample2.jpg", "real/fa-sample5.jpg")
SELFIE = fg.FACES / "real" / "fr-obama3.jpg"  # a third shot of Obama, not in the event
FACE_PATHS = ("/face-api/", "faces.bin", "/js/faces.js", "/js/face-model.js", "/js/face-match.js",
              "/js/face-index.js", "/faces.css")
SLOW = 90_000  # ms: the model's first load on a busy 2-core machine


@pytest.fixture(scope="module")
def server() -> Any:
    fg.stage_model()
    with gf.GalleryServer(poll_seconds=30) as srv:
        ev = srv.event("demo")
        for i in range(3):
            ev.add(f"IMG_{7000 + i}")
        fg.add_photos(ev, PHOTOS)
        ev.faces = (3, fg.CONSENT, fg.index_of(PHOTOS))
        srv.publish("demo")
        yield srv


def record(page: Any) -> list[dict[str, Any]]:
    """Every request the page makes from now on (and any WebSocket it opens)."""
    seen: list[dict[str, Any]] = []
    page.on("request", lambda r: seen.append({"url": r.url, "method": r.method, "body": r.post_data_buffer,
                                              "headers": r.headers}))
    page.on("websocket", lambda ws: seen.append({"url": ws.url, "method": "WEBSOCKET", "body": None,
                                                 "headers": {}}))
    return seen


def open_search(p: Any) -> None:
    p.page.click("[data-testid=faces-start]")
    p.page.wait_for_selector("[data-testid=faces-consent]")


def pick(p: Any, path_or_bytes: Any, testid: str = "faces-selfie") -> None:
    files = path_or_bytes if not isinstance(path_or_bytes, bytes) else {
        "name": "selfie.jpg", "mimeType": "image/jpeg", "buffer": path_or_bytes}
    p.page.set_input_files(f"[data-testid={testid}]", files)


@pytest.mark.parametrize("kind", ["phone", "1920"])
def test_search_from_a_selfie_sends_nothing_and_filters_best_first(server, open_page, kind):
    p = open_page(kind)
    before = record(p.page)
    goto(p, server)
    assert p.page.is_visible("[data-testid=faces-start]")
    assert not [r["url"] for r in before if any(f in r["url"] for f in FACE_PATHS)], "face code loaded early"

    during = record(p.page)
    open_search(p)
    assert p.page.text_content("[data-testid=faces-consent]") == fg.CONSENT
    p.shot("faces-consent")
    box = p.page.locator(".faces__pick").first.bounding_box()
    assert box and box["height"] >= 44 and box["width"] >= 44
    pick(p, SELFIE)
    p.page.wait_for_selector("[data-testid=faces-bar]:not([hidden])", timeout=SLOW)
    names = p.page.eval_on_selector_all("[data-testid=faces-tile]", "els => els.map(e => e.dataset.name)")
    assert set(names) == {"fr-obama", "fr-obama2"}, names
    assert p.page.is_hidden("#grid")
    p.page.wait_for_function("() => [...document.querySelectorAll('.faces-tile')].every(t => "
                             "t.classList.contains('is-loaded'))")
    p.page.wait_for_timeout(400)  # the fade-in
    p.shot("faces-results")

    selfie = SELFIE.read_bytes()
    origin = server.url
    assert during, "the search made no requests at all?"
    for r in during:
        assert r["method"] in ("GET", "HEAD"), r  # no POST/PUT, no WebSocket
        assert not r["body"], r
        assert r["url"].startswith(origin + "/"), r  # nothing to any other origin
        assert len(r["url"]) < 200, r["url"][:200]  # no image (or its descriptor) in a URL
        assert not any(len(v) > 500 for v in r["headers"].values()), r
        assert selfie[:64].hex() not in r["url"]
    assert any("/face-api/" in r["url"] for r in during) and any("faces.bin" in r["url"] for r in during)

    # stricter then looser; back to the whole gallery
    p.page.click("[data-testid=faces-fewer]")
    fewer = p.page.locator("[data-testid=faces-tile]").count()
    p.page.click("[data-testid=faces-more]")
    p.page.click("[data-testid=faces-more]")
    more = p.page.locator("[data-testid=faces-tile]").count()
    assert fewer <= len(names) <= more
    p.page.click("[data-testid=faces-tile] >> nth=0")
    p.page.wait_for_selector("[data-testid=lightbox]:not([hidden])")
    p.page.keyboard.press("Escape")
    p.page.click("[data-testid=faces-all]")
    assert p.page.is_visible("#grid") and p.page.is_hidden("[data-testid=faces-results]")
    assert p.page.locator("#grid .tile").count() == 3 + len(PHOTOS)


def test_several_faces_ask_which_one_and_no_face_says_so(server, open_page):
    p = open_page("phone")
    goto(p, server)
    open_search(p)
    pick(p, fg.FACES / "real" / "fa-sample1.jpg", "faces-file")  # three people
    p.page.wait_for_selector("[data-testid=faces-which]", timeout=SLOW)
    assert p.page.locator("[data-testid=faces-choice]").count() == 3
    p.shot("faces-which")
    p.page.click("[data-testid=faces-choice] >> nth=1")
    p.page.wait_for_selector("[data-testid=faces-bar]:not([hidden])")
    first = p.page.get_attribute("[data-testid=faces-tile] >> nth=0", "data-name")
    assert first == "fa-sample1"

    # Once loaded, a search needs no network: the model and the index stay in the page.
    p.page.context.set_offline(True)
    p.page.click("[data-testid=faces-again]")
    pick(p, SELFIE)
    p.page.wait_for_function("() => ['fr-obama', 'fr-obama2'].includes("
                             "document.querySelector('[data-testid=faces-tile]')?.dataset.name)")
    p.page.context.set_offline(False)

    buf = io.BytesIO()
    Image.open(io.BytesIO(gf.make_jpeg(900, 600, 4))).save(buf, "JPEG")  # a landscape, nobody in it
    p.page.click("[data-testid=faces-again]")
    pick(p, buf.getvalue())
    p.page.wait_for_selector("[data-testid=faces-none]", timeout=SLOW)
    assert "No face found" in p.page.text_content("[data-testid=faces-none]")
    p.shot("faces-none")


def test_no_button_without_face_search(open_page):
    with gf.GalleryServer(poll_seconds=30) as srv:
        srv.event("demo").add("IMG_1")
        srv.publish("demo")
        p = open_page("phone")
        seen = record(p.page)
        goto(p, srv)
        assert p.page.is_hidden("[data-testid=faces-start]")
        assert not [r["url"] for r in seen if any(f in r["url"] for f in FACE_PATHS)]
