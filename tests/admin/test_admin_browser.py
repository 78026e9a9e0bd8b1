"""The admin on a phone: Debian's Chromium through Playwright on iPhone- and Android-sized viewports.

A real admin server (the Flask app in a threaded werkzeug server) over a real store with camera
photos; the publisher and the sync service run in the test against the moto S3 server, so the live
feed shows real sync states. Screenshots of every screen go to tests/artifacts/.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.wsgi import serving_app

from appliance.admin import create_app
from appliance.config import Config
from appliance.ingest.importer import Importer
from appliance.publish.worker import Publisher
from appliance.store import Store
from appliance.sync.syncer import Syncer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHONES = {
    "iphone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True,
               "has_touch": True, "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
               "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"},
    "android": {"viewport": {"width": 412, "height": 915}, "device_scale_factor": 2.625, "is_mobile": True,
                "has_touch": True, "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) "
                "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"},
}
PASSWORD = "correct horse"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def playwright_browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def quiet_console(request: pytest.FixtureRequest, console_guard: Any) -> Iterator[None]:
    """Every page a test of this module opens is watched (tests/support/console_guard.py): a console
    error or warning, or an uncaught exception, fails the test."""
    if "playwright_browser" not in request.fixturenames:
        yield
        return
    browser = request.getfixturevalue("playwright_browser")
    new_context = browser.new_context

    def watched_context(**options: Any) -> Any:
        context = new_context(**options)
        context.on("page", console_guard.watch)
        return context

    browser.new_context = watched_context
    try:
        yield
    finally:
        del browser.new_context


@pytest.fixture
def photos(config: Config, samples: Path) -> list[int]:
    """Real camera JPEGs imported into the buffer (landscape, portrait by EXIF, several cameras)."""
    config.ensure_folders()
    card = config.folder("state").parent / "card-src"
    card.mkdir(exist_ok=True)
    picks = [samples / "gps" / f"DSCN00{n}.jpg" for n in ("10", "12", "21", "25", "27", "29")]
    picks += sorted((samples / "exif-org").glob("*.jpg"))[:6]
    picks += sorted((samples / "orientation").glob("*.jpg"))[:4]
    for path in picks:
        shutil.copy(path, card / f"{path.parent.name}-{path.name}")
    store = Store(config.db_path)
    Importer(config, store).import_tree(card)
    ids = [r["id"] for r in store.rows("SELECT id FROM photos ORDER BY id")]
    store.close()
    assert len(ids) >= 10
    return ids



@pytest.fixture
def server(config: Config, photos: list[int]) -> Iterator[str]:
    with serving_app(create_app(config)) as base:
        yield base


def shot(page: Any, name: str, full_page: bool = False) -> None:
    """Save a screenshot; every screen must fit the phone's width (no sideways scrolling)."""
    width = page.viewport_size["width"]
    assert page.evaluate("innerWidth") == width, f"{name}: the page is wider than the phone"
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name}: sideways scrolling"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"admin-{name}.png"), full_page=full_page)


def run_services(config: Config, until: float = 20.0) -> None:
    """What the publisher and sync services do, once, in this process (real pipeline, real S3)."""
    store = Store(config.db_path)
    try:
        publisher, syncer = Publisher(config, store), Syncer(config, store)
        deadline = time.monotonic() + until
        while publisher.run_once():
            pass
        while syncer.drain_once() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        store.close()


def swipe(page: Any, dx: int) -> None:
    """A one-finger horizontal swipe on the editor's photo (real TouchEvents)."""
    page.evaluate("""(dx) => {
      const stage = document.querySelector('#ed-stage');
      const box = stage.getBoundingClientRect();
      const x = box.left + box.width / 2, y = box.top + box.height / 2;
      const touch = (cx) => new Touch({identifier: 1, target: stage, clientX: cx, clientY: y});
      stage.dispatchEvent(new TouchEvent('touchstart', {touches: [touch(x)], changedTouches: [touch(x)],
                                                        bubbles: true}));
      stage.dispatchEvent(new TouchEvent('touchend', {touches: [], changedTouches: [touch(x + dx)],
                                                      bubbles: true}));
    }""", dx)


def login(page: Any, base: str) -> None:
    page.goto(f"{base}/")
    assert "/login" in page.url
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#grid .tile img")


@pytest.mark.parametrize("phone", sorted(PHONES))
def test_phone_flow(playwright_browser, server, config, photos, phone):
    # bypass_csp only lets Playwright's polling predicates run (they use eval); the page's own
    # policy is checked in test_admin.py and no request may leave the box (checked below).
    context = playwright_browser.new_context(**PHONES[phone], bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    outside: list[str] = []
    page.on("request", lambda req: outside.append(req.url) if not req.url.startswith(
        (server, "data:", "blob:")) else None)

    page.goto(f"{server}/login")
    page.wait_for_selector("#password")
    shot(page, f"{phone}-1-login")
    login(page, server)

    # The buffer: every imported photo as a ~400 px thumbnail, newest first.
    page.wait_for_function("document.querySelectorAll('#grid .tile img.ok').length >= 6")
    tiles = page.locator("#grid .tile")
    assert tiles.count() == len(photos)
    assert page.locator("[data-count=all]").inner_text() == str(len(photos))
    srcs = page.eval_on_selector_all("#grid .tile img", "els => els.map(e => e.getAttribute('src'))")
    assert all(s.startswith("/thumbs/") for s in srcs)
    assert page.locator(".status .dot").is_visible()
    shot(page, f"{phone}-2-buffer")

    # Status details open from the header.
    page.click("#status")
    page.wait_for_selector("#status-panel:not([hidden])")
    assert "photos" in page.inner_text("#st-buffer")
    shot(page, f"{phone}-3-status")
    page.click("#status")

    # Open a landscape photo, change exposure and rotation: the preview is the pipeline's render.
    landscape = page.locator("#grid .tile[aria-label='exif-org-fujifilm-dx10.jpg']")
    landscape.tap()
    page.wait_for_selector("#editor:not([hidden])")
    page.wait_for_function("document.querySelector('#ed-img').dataset.src.includes('/api/preview/')")
    page.wait_for_function("document.querySelector('#ed-img').complete")
    size0 = page.eval_on_selector("#ed-img", "i => [i.naturalWidth, i.naturalHeight]")
    assert size0 == [720, 540]  # 1024×768 original through the pipeline at 720 px
    shot(page, f"{phone}-4-editor")

    # Swipe left: the next photo; swipe right: back.
    position = page.inner_text("#ed-pos")
    swipe(page, -160)
    page.wait_for_function(f"document.querySelector('#ed-pos').textContent !== {position!r}")
    swipe(page, 160)
    page.wait_for_function(f"document.querySelector('#ed-pos').textContent === {position!r}")
    page.wait_for_function("document.querySelector('#ed-img').dataset.src.includes('/api/preview/')")

    page.fill("#ed-range", "0.8")
    page.wait_for_function("document.querySelector('#ed-img').dataset.src.includes('exposure=0.80')")
    page.locator("[data-ed=rotate]").tap()
    page.wait_for_function("document.querySelector('#ed-img').dataset.src.includes('rotate=90')")
    page.wait_for_function("document.querySelector('#ed-img').complete && "
                           "document.querySelector('#ed-img').naturalHeight > 0")
    size1 = page.eval_on_selector("#ed-img", "i => [i.naturalWidth, i.naturalHeight]")
    assert size1[1] > size1[0], "rotated preview should be portrait"
    assert page.locator("[data-v=exposure]").inner_text() == "+0.8 EV"
    time.sleep(0.3)  # let the CSS transition settle for the screenshot
    shot(page, f"{phone}-5-editor-edited")

    page.locator("[data-ed=publish]").tap()
    page.wait_for_selector("#toast:not([hidden])")
    assert "Publishing exif-org-fujifilm-dx10" in page.inner_text("#toast")
    store = Store(config.db_path)
    pub = store.row("SELECT * FROM publications ORDER BY id DESC LIMIT 1")
    store.close()
    assert pub["name"] == "exif-org-fujifilm-dx10"
    assert '"exposure": 0.8' in pub["recipe"] and '"rotate": 90' in pub["recipe"]

    # The publisher renders it, sync uploads it to the bucket: the live feed says so.
    run_services(config)
    page.locator("[data-ed=close]").tap()
    page.wait_for_selector("#editor", state="hidden")
    page.locator(".tabbar a[data-tab=live]").tap()
    row = page.locator("#live-list .row[data-name='exif-org-fujifilm-dx10']")
    row.wait_for()
    page.wait_for_selector("#live-list .row[data-name='exif-org-fujifilm-dx10'][data-sync=live]",
                           timeout=15_000)
    assert "Live" in row.locator(".pill").inner_text()
    page.wait_for_function("[...document.querySelectorAll('#live-list img')].every(i => i.complete)")
    shot(page, f"{phone}-6-live")

    # Unpublish, with a confirmation.
    row.locator("button.unpub").tap()
    page.wait_for_selector("#sheet:not([hidden])")
    assert "Unpublish exif-org-fujifilm-dx10?" in page.inner_text("#sheet-title")
    shot(page, f"{phone}-7-unpublish-confirm")
    page.locator("[data-sheet=ok]").tap()
    page.wait_for_selector("#live-list .row[data-name='exif-org-fujifilm-dx10']", state="detached")
    store = Store(config.db_path)
    assert store.publication(pub["id"])["state"] == "unpublished"
    store.close()

    # Settings: one long page of cards.
    page.locator(".tabbar a[data-tab=settings]").tap()
    page.wait_for_function("document.querySelector('#form-event').title.value !== ''")
    shot(page, f"{phone}-8-settings", full_page=True)

    assert not errors, errors
    assert not outside, f"requests outside the box: {outside}"
    context.close()


def test_keyboard_shortcuts(playwright_browser, server, config, photos):
    """Arrows move, R rotates, Enter publishes, Delete rejects, U unpublishes (live feed), Esc closes.
    (Rating, flags, Space to publish and Shift+U: test_culling_browser.py.)"""
    context = playwright_browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    login(page, server)
    page.keyboard.press("Space")  # opens the newest photo
    page.wait_for_selector("#editor:not([hidden])")
    assert page.inner_text("#ed-pos").startswith("1 /")
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#ed-pos").startswith("2 /")
    page.keyboard.press("ArrowLeft")
    assert page.inner_text("#ed-pos").startswith("1 /")
    first = page.inner_text("#ed-name")
    page.keyboard.press("r")
    page.wait_for_function("document.querySelector('#ed-img').dataset.src.includes('rotate=90')")
    page.keyboard.press("Enter")  # publish, moves on
    page.wait_for_function("document.querySelector('#ed-pos').textContent.startsWith('2 /')")
    second = page.inner_text("#ed-name")
    page.keyboard.press("Delete")  # reject, moves on
    page.wait_for_function("document.querySelector('#ed-pos').textContent.startsWith('3 /')")
    store = Store(config.db_path)
    assert store.scalar("SELECT COUNT(*) FROM publications WHERE name = ?",
                        (Path(first).stem,)) == 1
    rejected = store.scalar(
        "SELECT p.original_name FROM photo_rejections r JOIN photos p ON p.id = r.photo_id")
    assert rejected == second
    store.close()
    shot(page, "desktop-editor")

    run_services(config)
    page.keyboard.press("Escape")
    page.wait_for_selector("#editor", state="hidden")
    page.goto(f"{server}/#live")
    page.wait_for_selector("#live-list .row[data-sync=live]")
    page.locator("#live-list .row").first.focus()
    page.keyboard.press("u")
    page.wait_for_selector("#sheet:not([hidden])")
    page.keyboard.press("Enter")
    page.wait_for_selector("#live-list .row", state="detached")
    store = Store(config.db_path)
    assert store.scalar("SELECT state FROM publications") == "unpublished"
    store.close()
    context.close()


def test_settings_on_a_phone(playwright_browser, server, config, photos):
    """Event page, watermark with its preview, QR code; changes land in the store at once."""
    context = playwright_browser.new_context(**PHONES["iphone"], bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, server)
    page.locator(".tabbar a[data-tab=settings]").tap()
    form = page.locator("#form-event")
    page.wait_for_function("document.querySelector('#form-event').title.value === 'Anna & Ben'")
    form.locator("[name=subtitle]").fill("Lake house, June 2025")
    form.locator("[name=gallery_url]").fill("https://photos.example.com/?event={event}")
    form.locator("button[type=submit]").tap()
    page.wait_for_selector("#toast:not([hidden])")
    shot(page, "iphone-9-settings-event")
    store = Store(config.db_path)
    assert store.current_event()["subtitle"] == "Lake house, June 2025"

    wm = page.locator("#form-watermark")
    wm.scroll_into_view_if_needed()
    wm.locator("input[name=kind][value=text] + span").tap()
    wm.locator("[name=text]").fill("© Studio Lumen")
    wm.locator("input[name=position][value=bottom-left] + span").tap()
    page.wait_for_function("document.querySelector('#wm-preview').src.startsWith('blob:')")
    page.wait_for_function("document.querySelector('#wm-preview').complete")
    wm.locator("button[type=submit]").tap()
    page.wait_for_function("document.querySelector('#toast').textContent.includes('Watermark saved')")
    page.evaluate("document.querySelector('#toast').hidden = true")  # to see the preview's corner
    wm.locator("#wm-preview").scroll_into_view_if_needed()
    shot(page, "iphone-10-settings-watermark")
    wm.screenshot(path=str(ARTIFACTS / "admin-iphone-10b-watermark-card.png"))
    assert store.get_setting("watermark")["text"] == "© Studio Lumen"
    assert store.get_setting("watermark")["position"] == "bottom-left"
    assert store.get_setting("watermark_version") == 1

    page.goto(f"{server}/qr")
    page.wait_for_function("document.querySelector('img.qr').complete && "
                           "document.querySelector('img.qr').naturalWidth > 0")
    assert "https://photos.example.com/?event=wedding" in page.inner_text(".qr-url")
    shot(page, "iphone-11-qr")
    store.close()
    assert not errors, errors
    context.close()


def test_status_bar_follows_a_card_import(playwright_browser, server, config, photos):
    """The always-visible status shows import progress, then 'safe to remove', from the store."""
    context = playwright_browser.new_context(**PHONES["android"], bypass_csp=True)
    page = context.new_page()
    login(page, server)
    store = Store(config.db_path)
    card_id = store.card_seen("1234-ABCD", "CARD", "vfat", "/dev/sda1")
    import_id = store.start_import("card CARD (/dev/sda1)", card_id)  # as the card listener names it
    store.update_import(import_id, files_total=240, files_done=90, bytes_total=2400, bytes_done=900)
    page.wait_for_function("document.querySelector('#card-banner').textContent.includes('90/240')",
                           timeout=10_000)
    assert page.locator("#card-banner .bar i").evaluate("i => i.style.width") == "38%"
    shot(page, "android-9-importing")
    store.update_import(import_id, state="done", finished_at="2999-01-01T00:00:00Z", imported=90)
    page.wait_for_function("document.querySelector('#card-banner').textContent.includes('Safe to remove')",
                           timeout=10_000)
    store.close()
    context.close()


def test_second_copy_in_the_status_panel_on_a_phone(playwright_browser, server, config, photos):
    """The status panel shows the second copy's counts; a missing drive is a warning, not an error."""
    store = Store(config.db_path)
    shas = [r["sha256"] for r in store.rows("SELECT sha256, size FROM photos ORDER BY id")]
    for sha in shas[:-3]:
        store.record_second_copy("drive", sha, 1)
    store.set_second_copy_target("drive", name="BACKUP", available=0, problem="drive BACKUP missing")
    context = playwright_browser.new_context(**PHONES["iphone"], bypass_csp=True)
    page = context.new_page()
    login(page, server)
    page.wait_for_function("document.querySelector('.status-text').textContent.includes('2nd copy')",
                           timeout=10_000)
    page.click("#status")
    line = page.locator("#st-second-copy div")
    expected = f"⚠ Drive BACKUP: {len(shas) - 3} / {len(shas)}, 3 pending — drive BACKUP missing"
    assert line.text_content() == expected
    assert line.evaluate("d => getComputedStyle(d).color") == "rgb(245, 165, 36)"  # --warn
    shot(page, "iphone-11-second-copy")
    for sha in shas[-3:]:  # the drive is back and the copier catches up
        store.record_second_copy("drive", sha, 1)
    store.set_second_copy_target("drive", available=1, problem=None)
    page.wait_for_function("document.querySelector('#st-second-copy').textContent === "
                           f"'Drive BACKUP: {len(shas)} / {len(shas)}, 0 pending'", timeout=10_000)
    assert "2nd copy" not in page.locator(".status-text").text_content()
    store.close()
    context.close()
