"""Download a selection or all: select mode on a phone and a computer, one ZIP made in the browser
(client-zip), every photo in it byte-identical to what the server served."""

from __future__ import annotations

import io
import zipfile

import pytest
from support import gallery as gf
from support.browser import ARTIFACTS, CHROMIUM
from support.gallery_pages import goto, seed

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"),
]


def served(server: gf.GalleryServer, name: str) -> bytes:
    data = server.image("demo", f"photos/{name}.jpg", name)
    assert data
    return data


def download(p, tmp_path, button: str = "[data-testid=select-download]"):  # noqa: ANN001, ANN201
    with p.page.expect_download(timeout=30_000) as info:
        p.page.locator(button).click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return info.value.suggested_filename, zipfile.ZipFile(io.BytesIO(path.read_bytes()))


def test_phone_select_three_photos_and_download_one_zip(open_page, tmp_path):
    with gf.GalleryServer(poll_seconds=0.5) as server:
        ev = seed(server, 9, mixed=True)
        p = open_page("phone")
        goto(p, server)
        start = p.page.locator("[data-testid=select-start]")
        start.tap()
        bar = p.page.locator("[data-testid=selectbar]")
        assert bar.is_visible()
        assert p.page.locator("[data-testid=select-count]").inner_text() == "Tap to select"
        picked = [ev.names()[i] for i in (0, 2, 3)]
        for name in picked:
            p.page.locator(f'.tile[data-name="{name}"]').tap()
        assert p.page.locator("[data-testid=select-count]").inner_text() == "3 selected"
        assert p.page.locator(".tile.is-selected").count() == 3
        assert not p.page.locator("[data-testid=lightbox]").is_visible()  # taps select, not open
        # Untick one and tick it again.
        p.page.locator(f'.tile[data-name="{picked[1]}"]').tap()
        assert p.page.locator("[data-testid=select-count]").inner_text() == "2 selected"
        p.page.locator(f'.tile[data-name="{picked[1]}"]').tap()
        for sel in ("select-start", "select-cancel", "select-all", "select-download"):
            box = p.page.locator(f"[data-testid={sel}]").bounding_box()
            assert box["width"] >= 44 and box["height"] >= 44, (sel, box)
        ARTIFACTS.mkdir(exist_ok=True)
        p.page.wait_for_timeout(400)  # the tick's transition
        p.page.screenshot(path=str(ARTIFACTS / "gallery-select-phone.png"))

        name, zf = download(p, tmp_path)
        assert name == "demo-3-photos.zip"
        assert sorted(zf.namelist()) == sorted(f"{n}.jpg" for n in picked)
        for n in picked:
            assert zf.read(f"{n}.jpg") == served(server, n)
        assert zf.testzip() is None
        p.page.wait_for_function(
            "() => document.querySelector('[data-testid=select-count]').textContent === '3 photos saved'")
        # Back to normal after a moment: a tap opens the lightbox again.
        p.page.wait_for_selector("[data-testid=selectbar]", state="hidden", timeout=5_000)
        p.page.locator(f'.tile[data-name="{picked[0]}"]').tap()
        p.page.wait_for_selector("[data-testid=lightbox]", state="visible")


@pytest.mark.parametrize("cross_origin", [False, True], ids=["same-origin", "custom-domain"])
def test_all_photos_including_those_not_scrolled_to_yet(open_page, tmp_path, cross_origin):
    with gf.GalleryServer(poll_seconds=0.5) as server:
        if cross_origin:
            server.photo_origin = server.other_origin  # R2 custom domain: CORS fetches
        ev = seed(server, 75)  # more than one page of tiles (60)
        p = open_page("desktop")
        goto(p, server)
        assert p.page.evaluate("window.gallery.state.rendered") < 75
        p.page.locator("[data-testid=select-start]").click()
        p.page.locator("[data-testid=select-all]").click()
        assert p.page.locator("[data-testid=select-count]").inner_text() == "All 75 photos"
        assert p.page.locator("[data-testid=select-all]").inner_text() == "None"
        name, zf = download(p, tmp_path)
        assert name == "demo-all-photos.zip"
        assert sorted(zf.namelist()) == sorted(f"{n}.jpg" for n in ev.names())
        for n in ev.names():
            assert zf.read(f"{n}.jpg") == served(server, n)
        info = zf.getinfo(f"{ev.names()[0]}.jpg")
        assert info.date_time[:3] == (2026, 11, 21)  # the capture day, not 1980


def test_a_photo_gone_since_it_was_selected_is_left_out_and_said_so(open_page, tmp_path):
    with gf.GalleryServer(poll_seconds=30) as server:
        server.photo_origin = server.other_origin  # fetched past the cache: the 404 is seen
        ev = seed(server, 4)
        p = open_page("phone")
        goto(p, server)
        p.page.locator("[data-testid=select-start]").tap()
        p.page.locator("[data-testid=select-all]").tap()
        gone = ev.names()[1]
        next(ph for ph in ev.photos if ph.name == gone).broken = True  # its file 404s now
        name, zf = download(p, tmp_path)
        assert sorted(zf.namelist()) == sorted(f"{n}.jpg" for n in ev.names() if n != gone)
        p.page.wait_for_function("""() => document.querySelector('[data-testid=select-count]')
            .textContent === '3 saved, 1 unavailable'""")


# The save dialog cannot be clicked in headless Chromium: the page's showSaveFilePicker is replaced by one
# that "picks" a real file in the Origin Private File System, so the ZIP streams through a real
# FileSystemWritableFileStream exactly as into a file on disk.
PICKER = """
window.showSaveFilePicker = async (opts) => {
  window.__picked = opts.suggestedName;
  const dir = await navigator.storage.getDirectory();
  return dir.getFileHandle(opts.suggestedName, { create: true });
};
"""
READ_PICKED = """async () => {
  const dir = await navigator.storage.getDirectory();
  const file = await (await dir.getFileHandle(window.__picked)).getFile();
  const bytes = new Uint8Array(await file.arrayBuffer());
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}"""


def test_a_large_selection_streams_into_the_file_the_guest_picks(open_page):
    import base64

    with gf.GalleryServer(poll_seconds=30) as server:
        ev = server.event("demo")
        for i in range(160):  # more than zipSaveAbove (150)
            ev.add(f"IMG_{8000 + i}", 480, 320)
        server.publish("demo")
        p = open_page("desktop")
        p.page.add_init_script(PICKER)
        goto(p, server)
        p.page.locator("[data-testid=select-start]").click()
        p.page.locator("[data-testid=select-all]").click()
        p.page.locator("[data-testid=select-download]").click()
        p.page.wait_for_function("""() => document.querySelector('[data-testid=select-count]')
            .textContent === '160 photos saved'""", timeout=60_000)
        assert p.page.evaluate("window.__picked") == "demo-all-photos.zip"
        zf = zipfile.ZipFile(io.BytesIO(base64.b64decode(p.page.evaluate(READ_PICKED))))
        assert sorted(zf.namelist()) == sorted(f"{n}.jpg" for n in ev.names())
        for n in ev.names():
            assert zf.read(f"{n}.jpg") == served(server, n)


# Chromium on Linux has no Web Share; a phone's share sheet is stood in for by a navigator.share that
# keeps the files it was handed (as base64) for the test to compare.
SHARE_SHEET = """
navigator.canShare = (data) => !!data && Array.isArray(data.files)
  && data.files.every((f) => f instanceof File);
navigator.share = async (data) => {
  window.__shared = await Promise.all(data.files.map(async (f) => {
    const bytes = new Uint8Array(await f.arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { name: f.name, type: f.type, b64: btoa(s) };
  }));
};
"""


def test_phone_with_web_share_saves_a_few_photos_through_the_share_sheet(open_page):
    import base64

    with gf.GalleryServer(poll_seconds=30) as server:
        ev = seed(server, 5)
        p = open_page("phone")
        p.page.add_init_script(SHARE_SHEET)
        goto(p, server)
        p.page.locator("[data-testid=select-start]").tap()
        picked = ev.names()[1:3]
        for name in picked:
            p.page.locator(f'.tile[data-name="{name}"]').tap()
        p.page.locator("[data-testid=select-download]").tap()
        # The photos are fetched first; the share sheet then needs a tap of its own.
        p.page.wait_for_function(
            "() => document.getElementById('select-go-text').textContent === 'Save to Photos'")
        assert p.page.locator("[data-testid=select-count]").inner_text() == "Ready to save"
        assert p.page.evaluate("window.__shared === undefined")
        p.page.locator("[data-testid=select-download]").tap()
        p.page.wait_for_function("() => !!window.__shared")
        shared = p.page.evaluate("window.__shared")
        assert [s["name"] for s in shared] == [f"{n}.jpg" for n in picked]
        assert all(s["type"] == "image/jpeg" for s in shared)
        for s, n in zip(shared, picked, strict=True):
            assert base64.b64decode(s["b64"]) == served(server, n)
        p.page.wait_for_function("""() => document.querySelector('[data-testid=select-count]')
            .textContent === '2 photos saved'""")
