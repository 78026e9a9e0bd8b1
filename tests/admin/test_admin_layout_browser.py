"""The admin's layout in Debian's Chromium (Playwright): every interactive element measured from the
DOM on every view at a phone viewport (>= 44 × 44 px), the wide-screen panes (rail, grid beside the
viewer), the sync chart in the status panel, and feedback on a press before the server answers.

Screenshots: tests/artifacts/admin-iphone-16-*.png (390 × 844) and admin-desktop-*.png (1440 × 900).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from test_admin_browser import (  # noqa: F401 (fixtures)
    PHONES,
    login,
    photos,
    playwright_browser,
    run_services,
    server,
    shot,
)
from werkzeug.security import generate_password_hash

from appliance.config import Config
from appliance.ingest.importer import Importer
from appliance.publish.autopublish import AutoPublisher
from appliance.publish.worker import Publisher
from appliance.store import Store, utcnow

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1440, "height": 900}}
MIN = 44  # px, Apple's and Material's smallest comfortable touch target

# Everything a finger can press. A control hidden for style (the radio under a segmented label) is
# pressed through its label, so the label is measured instead.
MEASURE = """() => {
  const sel = 'button, a[href], input, select, textarea, summary, [role=button], [role=tab], [role=link],'
    + ' [tabindex]:not([tabindex="-1"]), label:has(> input), label:has(> select)';
  const seen = new Set(), out = [];
  for (let node of document.querySelectorAll(sel)) {
    if (node.matches('input[type=hidden]')) continue;
    if (node.matches('input') && getComputedStyle(node).opacity === '0') node = node.closest('label') || node;
    if (seen.has(node) || !node.checkVisibility({ visibilityProperty: true })) continue;
    seen.add(node);
    const r = node.getBoundingClientRect();
    if (!r.width && !r.height) continue;
    const name = (node.getAttribute('aria-label') || node.textContent || node.name || '').trim().slice(0, 30);
    out.push({ what: `${node.tagName.toLowerCase()}${node.id ? '#' + node.id : ''}`
      + `${node.className && typeof node.className === 'string' ? '.' + node.className.split(' ')[0] : ''}`
      + ` "${name}"`, w: Math.round(r.width * 10) / 10, h: Math.round(r.height * 10) / 10 });
  }
  return out;
}"""

# Deliberate exceptions, each with its reason: (selector part of "what", reason). None so far: the
# one inline link ("Download the certificate") is padded to 44 px like the rest.
EXCEPTIONS: dict[str, str] = {}


def small_targets(page: Any, view: str, measured: dict[str, int]) -> list[str]:
    found = page.evaluate(MEASURE)
    assert found, f"{view}: nothing interactive found"
    measured[view] = len(found)
    return [f"{view}: {t['what']} is {t['w']}×{t['h']} px" for t in found
            if (t["w"] < MIN or t["h"] < MIN) and not any(k in t["what"] for k in EXCEPTIONS)]


def scene(config: Config, samples: Path, tmp_path: Path) -> None:
    """What a busy evening shows: a camera account, a second event, a finished card import, two
    frames counting down to auto-publish, and a bucket that uploaded and failed this hour."""
    store = Store(config.db_path)
    store.add_ftp_account("canon-r5", generate_password_hash("secret-pass"), "Canon R5 · Jane")
    store.create_event_if_new("rehearsal", "Rehearsal dinner", "", utcnow(), make_current=False)
    event_id = store.current_event()["id"]
    store.set_autopublish_rule(event_id, "card", "", "all", 600)
    card = tmp_path / "late-card"
    card.mkdir()
    for name in ("DSCN0038.jpg", "DSCN0040.jpg"):
        shutil.copy(samples / "gps" / name, card / f"LATE_{name}")
    Importer(config, store).import_paths([(p, None) for p in sorted(card.iterdir())],
                                         source="card EOS_DIGITAL (/dev/sdz1)")
    assert AutoPublisher(store, Publisher(config, store)).tick() == 0
    now = time.time()
    for minutes_ago in (41, 40, 22, 7):
        store.count_sync_failure(now - minutes_ago * 60)
    store.close()


def test_touch_targets_on_a_phone(playwright_browser, server, config, photos,  # noqa: F811
                                  samples, tmp_path, console_guard):
    scene(config, samples, tmp_path)
    context = playwright_browser.new_context(**PHONES["iphone"], bypass_csp=True)
    page = console_guard(context.new_page())
    small: list[str] = []
    measured: dict[str, int] = {}

    page.goto(f"{server}/login")
    page.wait_for_selector("#password")
    small += small_targets(page, "login", measured)
    login(page, server)
    page.wait_for_selector("#grid .tile .ap-count .ap-stop")
    store = Store(config.db_path)
    import_id = store.start_import("/media/pi/CARD")
    store.update_import(import_id, state="done", finished_at="2999-01-01T00:00:00Z", imported=2)
    store.close()
    page.wait_for_selector("#card-banner:not([hidden]) .ir-close", timeout=10_000)
    small += small_targets(page, "buffer", measured)
    shot(page, "iphone-16-buffer")

    page.click("#status")
    page.wait_for_selector("#st-sync .sync-chart rect.fail")
    small += small_targets(page, "status", measured)
    shot(page, "iphone-16-status")
    page.click("#status")

    page.locator("#grid .tile[aria-label='exif-org-fujifilm-dx10.jpg']").tap()
    page.wait_for_selector("#editor:not([hidden])")
    page.wait_for_function("document.querySelector('#ed-img').dataset.src.includes('/api/preview/')")
    small += small_targets(page, "viewer", measured)
    shot(page, "iphone-16-viewer")
    page.locator("[data-ed=publish]").tap()
    page.wait_for_function("document.querySelector('#toast').textContent.includes('Publishing')")
    page.locator("[data-ed=reject]").tap()  # the next photo: rejected, with an Undo in the toast
    page.wait_for_selector("#toast button")
    small += small_targets(page, "viewer with undo toast", measured)
    run_services(config)
    page.locator("[data-ed=close]").tap()

    page.locator(".tabbar a[data-tab=live]").tap()
    page.wait_for_selector("#live-list .row[data-sync=live] button.unpub", timeout=15_000)
    small += small_targets(page, "live", measured)
    page.locator("#live-list button.unpub").first.tap()
    page.wait_for_selector("#sheet:not([hidden])")
    small += small_targets(page, "confirm sheet", measured)
    page.locator("[data-sheet=cancel]").tap()

    page.locator(".tabbar a[data-tab=settings]").tap()
    page.wait_for_selector("#cameras-list .camera button")
    page.wait_for_selector("#events-list button")
    page.wait_for_selector("#ap-sources form select")
    page.locator("#form-watermark input[name=kind][value=text] + span").tap()
    page.locator("#hero-pick").tap()
    page.wait_for_selector("#hero-picker:not([hidden]) button")
    small += small_targets(page, "settings", measured)
    page.locator("#hero-pick").tap()
    page.evaluate("document.querySelector('#toast').hidden = true")
    page.evaluate("scrollTo(0, 0)")
    shot(page, "iphone-16-settings", full_page=True)

    page.goto(f"{server}/qr")
    page.wait_for_selector(".qr-tools")
    small += small_targets(page, "qr", measured)
    assert measured["settings"] > 30 and measured["buffer"] >= len(photos)  # really measured them all
    assert not small, "touch targets under 44 × 44 px:\n" + "\n".join(small)
    context.close()


def test_wide_screen_panes(playwright_browser, server, config, photos, console_guard):  # noqa: F811
    """A laptop: a side rail instead of the tab bar, the photo opens in a pane beside the grid (the
    grid stays usable), keys still work, the status drops down with the sync chart."""
    store = Store(config.db_path)
    for minutes_ago in (33, 12):
        store.count_sync_failure(time.time() - minutes_ago * 60)
    for photo_id in photos[-3:]:  # three photos published and uploaded this minute
        store.request_publication(photo_id, {}, f"photo-{photo_id}")
    store.close()
    run_services(config)
    context = playwright_browser.new_context(**DESKTOP, bypass_csp=True)
    page = console_guard(context.new_page())
    login(page, server)
    page.wait_for_function("document.querySelectorAll('#grid .tile img.ok').length >= 10")
    rail = page.locator(".tabbar").bounding_box()
    assert rail["x"] == 0 and rail["width"] < 120 and rail["height"] == 900  # a rail, not a bottom bar
    grid = page.locator("#grid").bounding_box()
    assert grid["x"] >= rail["width"] and grid["width"] > 1100
    small: list[str] = []
    measured: dict[str, int] = {}
    small += small_targets(page, "desktop buffer", measured)
    shot(page, "desktop-buffer")

    page.locator("#grid .tile").nth(2).click()
    page.wait_for_selector("#editor:not([hidden])")
    page.wait_for_function("document.querySelector('#ed-img').dataset.src.includes('/api/preview/')")
    page.wait_for_function("document.querySelector('#ed-img').complete")
    editor, grid = page.locator("#editor").bounding_box(), page.locator("#grid").bounding_box()
    assert grid["x"] + grid["width"] <= editor["x"] + 1, "the grid is beside the viewer, not under it"
    assert editor["x"] + editor["width"] == 1440 and grid["width"] >= 300
    stage, panel = page.locator("#ed-stage").bounding_box(), page.locator(".ed-panel").bounding_box()
    assert panel["x"] >= stage["x"] + stage["width"] - 1, "the edit panel is a third pane"
    assert page.get_attribute("#editor", "aria-modal") == "false"
    assert page.locator(".tile.current").get_attribute("data-index") == "2"
    small += small_targets(page, "desktop viewer", measured)
    time.sleep(0.3)
    shot(page, "desktop-viewer")

    page.keyboard.press("ArrowRight")  # keys work in the pane
    page.wait_for_function("document.querySelector('#ed-pos').textContent.startsWith('4 /')")
    page.locator("#grid .tile").nth(0).click()  # another photo from the grid, viewer stays open
    page.wait_for_function("document.querySelector('#ed-pos').textContent.startsWith('1 /')")
    page.evaluate("scrollTo(0, 10000)")
    assert page.evaluate("scrollY") > 0 or page.evaluate("document.body.scrollHeight") <= 900, \
        "the grid beside the viewer scrolls"
    page.evaluate("scrollTo(0, 0)")

    page.click("#status")
    page.wait_for_selector("#st-sync .sync-chart rect.fail")
    assert page.locator("#st-sync .sync-chart rect.fail").count() == 2
    assert page.locator("#st-sync .sync-chart rect.up").count() == 1  # this minute's uploads
    assert "Online" in page.inner_text("#st-sync .uplink")
    assert "last contact" in page.inner_text("#st-sync .uplink")
    store = Store(config.db_path)
    uploaded = store.scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'upload' AND state = 'done'")
    store.close()
    assert uploaded >= 6 and f"{uploaded} uploaded" in page.inner_text("#st-sync .sync-legend")
    shot(page, "desktop-status")
    page.keyboard.press("Escape")  # closes the drop-down, not the viewer under it
    page.wait_for_selector("#status-panel", state="hidden")
    assert page.locator("#editor").is_visible()
    page.click("#status")
    page.wait_for_selector("#status-panel:not([hidden])")
    page.locator("#grid .tile").nth(3).click()  # a click elsewhere closes it too
    page.wait_for_selector("#status-panel", state="hidden")

    page.locator(".tabbar a[data-tab=live]").click()
    page.wait_for_selector("#live-list .row[data-sync=live]")
    page.wait_for_function("[...document.querySelectorAll('#live-list img')].every(i => i.complete)")
    shot(page, "desktop-live")

    page.locator(".tabbar a[data-tab=settings]").click()  # the rail works with a photo open
    page.wait_for_selector("#editor", state="hidden")
    page.wait_for_function("document.querySelector('#form-event').title.value !== ''")
    assert page.locator("#view-settings").is_visible()
    page.wait_for_selector("#ap-sources form select")
    small += small_targets(page, "desktop settings", measured)
    assert not small, "touch targets under 44 × 44 px (laptops have touch screens too):\n" + "\n".join(small)
    shot(page, "desktop-settings")

    # A small laptop (two panes: the edit panel under the photo), then a phone-wide window (overlay).
    page.set_viewport_size({"width": 1024, "height": 768})
    page.locator(".tabbar a[data-tab=buffer]").click()
    page.locator("#grid .tile").nth(1).click()
    page.wait_for_function("document.querySelector('#ed-img').dataset.src.includes('/api/preview/')")
    editor, grid = page.locator("#editor").bounding_box(), page.locator("#grid").bounding_box()
    assert grid["x"] + grid["width"] <= editor["x"] + 1 and grid["width"] >= 250
    stage, panel = page.locator("#ed-stage").bounding_box(), page.locator(".ed-panel").bounding_box()
    assert panel["y"] >= stage["y"] + stage["height"] - 1
    shot(page, "desktop-1024-viewer")
    page.set_viewport_size({"width": 700, "height": 900})
    editor = page.locator("#editor").bounding_box()
    assert (editor["x"], editor["width"]) == (0, 700)
    assert page.get_attribute("#editor", "aria-modal") == "true"
    context.close()


def held(page: Any, pattern: str) -> list[Any]:
    """Hold requests to ``pattern`` until the test lets them go (route.continue_())."""
    routes: list[Any] = []
    page.route(pattern, lambda route: routes.append(route))
    return routes


def release(page: Any, routes: list[Any]) -> None:
    """Let the held request go on to the server."""
    while not routes:
        page.wait_for_timeout(20)
    routes.pop().continue_()


def pressed_within(page: Any, selector: str) -> float:
    """Milliseconds from a click on ``selector`` to it showing the wait (aria-busy)."""
    page.evaluate("""(sel) => {
      window.__busy = null; window.__click = null;
      const node = document.querySelector(sel);
      document.addEventListener('click', (e) => {
        if (e.target.closest(sel)) window.__click ??= e.timeStamp;
      }, true);
      new MutationObserver(() => {
        if (node.getAttribute('aria-busy') === 'true') window.__busy ??= performance.now();
      }).observe(node, { attributes: true, attributeFilter: ['aria-busy'] });
    }""", selector)
    page.click(selector)
    page.wait_for_function("window.__busy !== null")
    return page.evaluate("window.__busy - window.__click")


def test_feedback_before_the_server_answers(playwright_browser, server, photos,  # noqa: F811
                                            config, console_guard):
    """Publish and a settings save show their wait within 100 ms; a refusal and a lost connection are
    explained in words and change nothing."""
    context = playwright_browser.new_context(**DESKTOP, bypass_csp=True)
    page = console_guard(context.new_page())
    login(page, server)
    page.evaluate("console.warn('a warning'); console.error('an error');"
                  "setTimeout(() => { throw Error('boom'); })")
    page.wait_for_timeout(100)
    said = console_guard.problems[:]  # the guard hears all three (then forgets them: they were made here)
    kinds = [p.split(": ", 1)[0].rsplit(" ", 1)[1] for p in said]
    assert kinds == ["console.warning", "console.error", "uncaught"], said
    console_guard.problems.clear()
    page.locator("#grid .tile").first.click()
    page.wait_for_selector("#editor:not([hidden])")

    routes = held(page, "**/api/publish")
    assert pressed_within(page, "[data-ed=publish]") < 100
    assert page.get_attribute("[data-ed=publish]", "aria-busy") == "true"  # still waiting
    assert page.evaluate("document.documentElement.classList.contains('saving')")  # the bar at the top
    release(page, routes)
    page.wait_for_function("document.querySelector('#toast').textContent.includes('Publishing')")
    assert page.get_attribute("[data-ed=publish]", "aria-busy") is None
    page.unroute("**/api/publish")

    # Chromium logs a failed request as a console error: these two fail on purpose.
    console_guard.allow("status of 409 (Conflict) (http://127.0.0.1")
    console_guard.allow("net::ERR_INTERNET_DISCONNECTED (http://127.0.0.1")
    page.route("**/api/publish", lambda route: route.fulfill(
        status=409, json={"error": "This photo is being published already"}))
    position = page.inner_text("#ed-pos")
    page.click("[data-ed=publish]")
    page.wait_for_function("document.querySelector('#toast.error')?.textContent.includes('being published')")
    assert page.inner_text("#ed-pos") == position  # it stays on the photo
    page.unroute("**/api/publish")
    page.route("**/api/reject", lambda route: route.abort("internetdisconnected"))
    page.click("[data-ed=reject]")
    page.wait_for_function("document.querySelector('#toast.error')?.textContent.includes('No connection')")
    assert "nothing was changed" in page.inner_text("#toast")
    assert not page.locator(".tile.rejected").count()
    page.keyboard.press("Escape")

    page.goto(f"{server}/#settings")
    page.wait_for_function("document.querySelector('#form-event').title.value !== ''")  # settings loaded
    page.fill("#form-credits [name=artist]", "Jane Doe")
    routes = held(page, "**/api/settings/publish")
    assert pressed_within(page, "#form-credits button[type=submit]") < 100
    release(page, routes)
    page.wait_for_function("document.querySelector('#toast').textContent.includes('Credits saved')")
    assert page.get_attribute("#form-credits button[type=submit]", "aria-busy") is None
    store = Store(config.db_path)
    assert "Jane Doe" in str(store.get_setting("credits"))
    store.close()
    context.close()

