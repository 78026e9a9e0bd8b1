"""Culling in the admin, in Debian's Chromium through Playwright, on a phone (390 × 844, touch) and a
laptop (1440 × 900): rating and flags in the viewer (keys on the laptop, taps and swipes on the phone),
the buffer's filters kept in the URL, multi-select (Shift-click range, long-press), a batch publish
whose progress bar reaches 100 % while the real publisher and sync service run against moto S3, the
undo of a batch delete, the "?" help, tap targets measured from the DOM and a silent console.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from test_admin_browser import (  # noqa: F401 (fixtures)
    PHONES,
    login,
    photos,
    playwright_browser,
    server,
    shot,
    swipe,
)

from appliance.config import Config
from appliance.imaging.xmp_sidecar import sidecar_path
from appliance.publish.worker import Publisher
from appliance.store import Store
from appliance.sync.syncer import Syncer

pytestmark = pytest.mark.browser
DESKTOP = {"viewport": {"width": 1440, "height": 900}}
# Every control this feature adds, wherever it is on screen at the moment of measuring.
CONTROLS = ("#cull-bar button, .chips .chip-extra, .chips button[data-filter], .panel button, .panel select, "
            ".panel input, #batch-bar button, #batch-progress button, body.selecting .tile .sel-box")


def watch(page: Any) -> list[str]:
    """Console errors and warnings and uncaught exceptions of the page, as they happen."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    return problems


def get(page: Any, path: str) -> Any:
    """The admin API's JSON, asked from the page (its session)."""
    return page.evaluate("async (p) => (await fetch(p, {headers: {Accept: 'application/json'}})).json()",
                         path)


def photo(page: Any, photo_id: int) -> dict[str, Any]:
    found = [p for p in get(page, "/api/buffer?limit=500")["photos"] if p["id"] == photo_id]
    assert found, f"photo {photo_id} is not in the buffer"
    return found[0]


def small_targets(page: Any) -> list[Any]:
    """Visible controls of this feature smaller than 44 × 44 CSS px."""
    return page.eval_on_selector_all(CONTROLS, """els => els.map(e => [e, e.getBoundingClientRect()])
      .filter(([e, r]) => r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden')
      .filter(([, r]) => r.width < 43.99 || r.height < 43.99)
      .map(([e, r]) => [e.getAttribute('aria-label') || e.textContent.trim(), r.width, r.height])""")


def measured(page: Any, minimum: int) -> None:
    """At least ``minimum`` controls on screen, none under 44 px (measured when nothing moves and
    nothing is pressed: a button still :active after a tap is drawn at 97 %, admin.css; one run
    measured "Pick (P)" at 42.68 px that way)."""
    page.wait_for_function("document.getAnimations().every(a => a.playState !== 'running' || "
                           "a.effect.getComputedTiming().iterations === Infinity)")  # not the spinners
    page.wait_for_function("!document.querySelector(':active')")
    count = page.eval_on_selector_all(CONTROLS,
                                      "els => els.filter(e => e.getBoundingClientRect().width > 0).length")
    assert count >= minimum, f"only {count} controls visible"
    assert not small_targets(page), small_targets(page)


@contextmanager
def services(config: Config) -> Iterator[list[BaseException]]:
    """The publish worker and the sync service looping in a thread (real render, real S3 upload)."""
    stop, errors = threading.Event(), []

    def loop() -> None:
        store = Store(config.db_path)
        try:
            publisher, syncer = Publisher(config, store), Syncer(config, store)
            while not stop.is_set():
                busy = publisher.run_once()
                if not busy and not syncer.drain_once():
                    stop.wait(0.2)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            store.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield errors
    finally:
        stop.set()
        thread.join(60)


def tile(page: Any, index: int) -> Any:
    return page.locator(f"#grid .tile[data-index='{index}']")


def selected(page: Any) -> list[int]:
    return page.eval_on_selector_all("#grid .tile.selected", "els => els.map(e => Number(e.dataset.id))")


def long_press(page: Any, locator: Any, seconds: float = 0.8) -> None:
    """A finger held on the element (real touch input through the DevTools protocol)."""
    box = locator.bounding_box()
    point = {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point]})
    time.sleep(seconds)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def break_buffer_file(config: Config, photo_id: int) -> str:
    """Truncate a photo's buffer JPEG (a damaged file): its publish fails. Returns its name."""
    store = Store(config.db_path)
    row = store.photo(photo_id)
    store.close()
    path = config.folder("buffer") / row["buffer_path"]
    path.write_bytes(path.read_bytes()[:2000])
    return row["original_name"]


def batch_publish(page: Any, config: Config, ids: list[int], name: str, broken: str | None = None) -> None:
    """Publish the selection in one request; the progress bar reaches 100 % as the services work,
    naming the photo that failed (``broken``) with its reason."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if r.method == "POST" else None)
    page.locator("#batch-bar [data-b=publish]").click()
    page.wait_for_selector("#batch-progress:not([hidden])", timeout=2000)
    assert [u for u in requests if "/api/" in u] == [requests[0]] and requests[0].endswith("/api/batch")
    with services(config) as errors:
        page.wait_for_selector("#batch-progress .bp-bar[aria-valuenow='100']", timeout=90_000)
    assert not errors, errors
    assert page.locator("#batch-progress .bp-bar i").evaluate("i => i.style.width") == "100%"
    text = page.inner_text("#batch-progress")
    shot(page, name)
    if broken is None:
        assert "all live" in text
    else:
        assert f"Published {len(ids) - 1} of {len(ids)} photos" in text and "1 failed" in text
        [failure] = page.locator("#batch-progress .bp-failed li").all_inner_texts()
        assert failure.startswith(f"{broken} — ") and len(failure) > len(broken) + 10, failure
    states = [photo(page, photo_id)["state"] for photo_id in ids]
    assert states.count("published") == len(ids) - (broken is not None), states
    page.locator("#batch-progress [aria-label='Hide progress']").click()


def delete_and_undo(page: Any, ids: list[int], name: str) -> None:
    """The selected photos leave the grid at once; Undo within 10 s brings them back."""
    total = get(page, "/api/buffer?limit=1")["total"]
    # Gone in the same task as the click (optimistic), long before the box answers.
    gone_ms = page.evaluate("""(ids) => {
      const t0 = performance.now();
      document.querySelector('#batch-bar [data-b=delete]').click();
      const gone = ids.every(id => !document.querySelector(`#grid .tile[data-id='${id}']`));
      return gone ? performance.now() - t0 : null;
    }""", ids)
    assert gone_ms is not None and gone_ms < 100, gone_ms
    page.wait_for_function("document.querySelector('#toast').textContent.startsWith('Deleted')")
    assert get(page, "/api/buffer?limit=1")["total"] == total - len(ids)
    shot(page, name)
    page.locator("#toast button", has_text="Undo").click()
    page.wait_for_function("document.querySelector('#toast').textContent.startsWith('Restored')")
    for photo_id in ids:
        page.wait_for_selector(f"#grid .tile[data-id='{photo_id}']")
    assert get(page, "/api/buffer?limit=1")["total"] == total


def open_help(page: Any, name: str) -> None:
    page.keyboard.press("?")
    page.wait_for_selector("#shortcuts .keys-help")
    text = page.inner_text("#shortcuts")
    for key in ("0 – 5", "P", "X", "U", "Space", "E", "Shift + U", "Shift + click", "?"):
        assert key in text, key
    measured(page, 1)
    shot(page, name)
    page.keyboard.press("Escape")
    page.wait_for_selector("#shortcuts", state="detached")


def test_culling_on_a_laptop(playwright_browser, server, config, photos):  # noqa: F811
    context = playwright_browser.new_context(**DESKTOP, bypass_csp=True)
    page = context.new_page()
    problems = watch(page)
    login(page, server)
    page.wait_for_function("document.querySelectorAll('#grid .tile img.ok').length >= 6")

    # Space opens the newest photo; keys rate and flag it, at once (optimistic) and in the box.
    page.keyboard.press("Space")
    page.wait_for_selector("#editor:not([hidden])")
    first = int(page.locator("#grid .tile.current").get_attribute("data-id"))
    page.keyboard.press("4")
    assert page.get_attribute("#cull-bar [data-rate='4']", "aria-pressed") == "true"  # no round trip
    # P: shown in the same task as the key press (well within 100 ms), before the box answers.
    shown_ms = page.evaluate("""() => {
      const t0 = performance.now();
      document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'p', bubbles: true}));
      return document.querySelector('#cull-bar').dataset.flag === 'picked' ? performance.now() - t0 : null;
    }""")
    assert shown_ms is not None and shown_ms < 100, shown_ms
    page.wait_for_function(f"fetch('/api/buffer?limit=500').then(r => r.json()).then(d => "
                           f"d.photos.some(p => p.id === {first} && p.rating === 4 && p.flag === 'picked'))")
    shot(page, "desktop-1-viewer-rated")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("document.querySelector('#ed-pos').textContent.startsWith('2 /')")
    second = int(page.locator("#grid .tile.current").get_attribute("data-id"))
    page.keyboard.press("x")
    page.keyboard.press("2")
    page.wait_for_function(f"fetch('/api/buffer?limit=500').then(r => r.json()).then(d => d.photos.some("
                           f"p => p.id === {second} && p.flag === 'rejected' && p.rating === 2))")
    assert page.locator(f"#grid .tile[data-id='{second}']").get_attribute("class").count("rejected") == 1
    page.keyboard.press("u")
    page.wait_for_function(f"fetch('/api/buffer?limit=500').then(r => r.json()).then(d => "
                           f"d.photos.some(p => p.id === {second} && p.flag === null))")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("document.querySelector('#ed-pos').textContent.startsWith('1 /')")
    page.keyboard.press("e")
    assert page.evaluate("document.activeElement.id") == "ed-range"
    page.keyboard.press("e")
    measured(page, 8)
    open_help(page, "desktop-2-shortcuts")

    # A refused change is changed back, with a toast saying so.
    page.route("**/api/rate", lambda route: route.fulfill(status=503, json={"error": "The box is busy"}))
    page.keyboard.press("1")
    page.wait_for_function("document.querySelector('#toast.error')?.textContent.includes('changed back')")
    assert page.get_attribute("#cull-bar [data-rate='4']", "aria-pressed") == "true"
    page.unroute("**/api/rate")
    problems[:] = [p for p in problems if "status of 503" not in p]  # the refusal this test made

    # Space publishes (with the edits) and moves on.
    page.keyboard.press("Space")
    page.wait_for_function("document.querySelector('#ed-pos').textContent.startsWith('2 /')")
    assert photo(page, first)["state"] in ("queued", "processing", "published")
    page.keyboard.press("Escape")
    page.wait_for_selector("#editor", state="hidden")

    filters_survive_a_reload(page, first)
    select_with_the_mouse(page, config)
    export_ratings(page, config, first)
    assert not problems, problems
    context.close()


def filters_survive_a_reload(page: Any, rated: int) -> None:
    page.locator("#filter-open").click()
    page.wait_for_selector("#filter-sheet")
    page.locator("#filter-sheet [aria-label='Rating at least'] [data-value='3']").click()
    page.locator("#filter-sheet [aria-label='Flag'] [data-value='picked']").click()
    page.wait_for_function("new URLSearchParams(location.search).get('flag') === 'picked'")
    page.wait_for_function("document.querySelector('[data-f=show]').textContent === 'Show 1 photo'")
    measured(page, 12)
    shot(page, "desktop-3-filter-sheet")
    page.locator("[data-f=show]").click()
    page.reload()
    page.wait_for_selector(f"#grid .tile[data-id='{rated}']")
    assert "rating=3" in page.url and "flag=picked" in page.url
    page.wait_for_function("document.querySelectorAll('#grid .tile').length === 1")
    chips = page.eval_on_selector_all(".chips .chip-on", "els => els.map(e => e.getAttribute('aria-label'))")
    assert chips == ["Remove filter ★ 3+", "Remove filter Picked"]
    shot(page, "desktop-4-filtered")
    page.locator(".chips .chip-on[data-clear=flag]").click()
    page.locator(".chips .chip-on[data-clear=rating]").click()
    page.wait_for_function("location.search === ''")
    page.wait_for_function("document.querySelectorAll('#grid .tile').length > 10")

    # Source (from the response's list) and time range; then sort by import time.
    page.locator("#filter-open").click()
    page.wait_for_selector("#filter-sheet select[name=source] option:nth-child(2)", state="attached")
    source = page.locator("#filter-sheet select[name=source] option").nth(1).get_attribute("value")
    page.select_option("#filter-sheet select[name=source]", source)
    page.wait_for_function("new URLSearchParams(location.search).has('source')")
    expected = get(page, "/api/buffer?limit=1&" + page.evaluate("location.search.slice(1)"))["total"]
    assert expected > 0
    page.wait_for_function(f"document.querySelectorAll('#grid .tile').length === {expected}")
    page.fill("#filter-sheet input[name=from]", "2099-01-01T00:00")
    page.wait_for_function("new URLSearchParams(location.search).get('from') === '2099-01-01T00:00'")
    page.wait_for_selector("#grid .empty")
    assert page.inner_text("#grid .empty") == "No photos match these filters."
    page.locator("#filter-sheet [aria-label='Sort by'] [data-value='import']").click()
    page.wait_for_function("new URLSearchParams(location.search).get('sort') === 'import'")
    page.locator("[data-f=clear]").click()
    page.wait_for_function("location.search === ''")
    page.keyboard.press("Escape")
    page.wait_for_selector("#filter-sheet", state="detached")
    page.wait_for_function("document.querySelectorAll('#grid .tile').length > 10")


def select_with_the_mouse(page: Any, config: Config) -> None:
    page.wait_for_function("document.querySelectorAll('#grid .tile img.ok').length >= 8")
    tile(page, 3).click(modifiers=["Control"])
    tile(page, 7).click(modifiers=["Shift"])
    ids = [int(tile(page, i).get_attribute("data-id")) for i in range(3, 8)]
    assert sorted(selected(page)) == sorted(ids)
    assert page.inner_text("#bb-count") == "5 selected"
    tile(page, 5).click()  # while selecting, a plain click unselects
    assert len(selected(page)) == 4 and page.locator("#editor").is_hidden()
    tile(page, 5).click()
    page.keyboard.press("3")  # keys act on the selection
    for photo_id in ids:
        page.wait_for_function(f"document.querySelector(\"#grid .tile[data-id='{photo_id}'] .m-stars\")"
                               "?.textContent === '★★★'")
    measured(page, 20)
    shot(page, "desktop-5-selected")
    batch_publish(page, config, ids, "desktop-6-batch-published")
    tile(page, 3).click(modifiers=["Control"])
    tile(page, 4).click(modifiers=["Control"])
    page.locator("#batch-bar [data-b=unpublish]").click()
    page.wait_for_selector("#sheet:not([hidden])")
    assert page.inner_text("#sheet-title") == "Unpublish 2 photos?"
    page.locator("[data-sheet=ok]").click()
    page.wait_for_function("document.querySelector('#toast').textContent.startsWith('Unpublished 2 photos')")
    for photo_id in ids[:2]:
        assert photo(page, photo_id)["state"] == "unpublished"
    name = tile(page, 5).get_attribute("aria-label")
    tile(page, 5).click()  # nothing selected: a click opens the viewer; Shift+U unpublishes
    page.wait_for_selector("#editor:not([hidden])")
    page.keyboard.press("Shift+U")
    page.wait_for_selector("#sheet:not([hidden])")
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelector('#toast').textContent === 'Unpublished {name}'")
    assert photo(page, ids[2])["state"] == "unpublished"
    page.keyboard.press("Escape")
    page.wait_for_selector("#editor", state="hidden")

    total = get(page, "/api/buffer?limit=1")["total"]
    page.keyboard.press("Control+a")
    page.wait_for_function(f"document.querySelector('#bb-count').textContent === '{total} selected'")
    page.keyboard.press("Escape")
    page.wait_for_selector("#batch-bar", state="hidden")

    same_edit(page, [11, 12])
    published = int(tile(page, 6).get_attribute("data-id"))  # a published photo is kept, and says why
    assert photo(page, published)["state"] == "published"
    tile(page, 6).click(modifiers=["Control"])
    page.locator("#batch-bar [data-b=delete]").click()
    page.wait_for_function("document.querySelector('#toast.error')?.textContent.startsWith('Nothing del')")
    assert "unpublish it first" in page.inner_text("#toast")
    page.wait_for_selector(f"#grid .tile[data-id='{published}']")
    rest = [int(tile(page, i).get_attribute("data-id")) for i in (9, 10)]
    tile(page, 9).click(modifiers=["Control"])
    tile(page, 10).click(modifiers=["Meta"])
    delete_and_undo(page, rest, "desktop-7-deleted-undo")

    # Arrows move the focus through the grid; a key rates the focused photo.
    page.evaluate("document.activeElement.blur()")
    for key in ("ArrowRight", "ArrowRight", "ArrowDown", "ArrowUp"):
        page.keyboard.press(key)
    assert page.evaluate("document.activeElement.dataset.index") == "1"
    page.keyboard.press("5")
    page.wait_for_function("document.querySelector(\"#grid .tile[data-index='1'] .m-stars\")"
                           "?.textContent === '★★★★★'")


def same_edit(page: Any, indexes: list[int]) -> None:
    """One exposure and rotation for several photos: each opens in the viewer with that draft."""
    for i in indexes:
        tile(page, i).click(modifiers=["Control"])
    page.locator("#batch-bar [data-b=edit]").click()
    page.fill("#batch-edit input[type=range]", "0.5")
    page.locator("#batch-edit [aria-label=Rotation] [data-value='90']").click()
    measured(page, 8)
    shot(page, "desktop-8-batch-edit")
    page.locator("[data-b=apply-edit]").click()
    page.wait_for_function("document.querySelector('#toast').textContent.startsWith('Edit saved on 2')")
    tile(page, indexes[-1]).click()
    page.wait_for_selector("#editor:not([hidden])")
    page.wait_for_function("document.querySelector('[data-v=exposure]').textContent === '+0.5 EV'")
    page.wait_for_function("document.querySelector('#ed-img').dataset.src.includes('rotate=90')")
    page.keyboard.press("Escape")
    page.wait_for_selector("#editor", state="hidden")


def export_ratings(page: Any, config: Config, rated: int) -> None:
    """Settings → Export ratings: XMP sidecars beside the originals for Lightroom."""
    page.locator(".tabbar a[data-tab=settings]").click()
    page.locator("#xmp-export").click()
    page.wait_for_function("document.querySelector('#toast').textContent.startsWith('Ratings of')")
    store = Store(config.db_path)
    row = store.photo(rated)
    store.close()
    sidecar = sidecar_path(config.folder("buffer") / row["buffer_path"])
    assert 'xmp:Rating="4"' in sidecar.read_text() or "<xmp:Rating>4<" in sidecar.read_text()
    page.locator("#xmp-card").scroll_into_view_if_needed()
    shot(page, "desktop-9-export-ratings")


def test_culling_on_a_phone(playwright_browser, server, config, photos):  # noqa: F811
    store = Store(config.db_path)
    with store.transaction():  # one protected in the camera (the samples are read-only files: all were)
        store.conn.execute("UPDATE photos SET protected = (id = ?)", (photos[-1],))
    store.close()
    context = playwright_browser.new_context(**PHONES["iphone"], bypass_csp=True)
    page = context.new_page()
    problems = watch(page)
    login(page, server)
    page.wait_for_function("document.querySelectorAll('#grid .tile img.ok').length >= 6")
    assert page.locator("#grid .tile .m-lock").count() == 1
    assert page.locator(f"#grid .tile[data-id='{photos[-1]}'] .m-lock").is_visible()

    # Tap a photo; the stars and flags sit on it, big enough for a thumb.
    tile(page, 0).tap()
    page.wait_for_selector("#editor:not([hidden])")
    first = int(page.locator("#grid .tile.current").get_attribute("data-id"))
    page.locator("#cull-bar [data-rate='5']").tap()
    assert page.get_attribute("#cull-bar [data-rate='5']", "aria-pressed") == "true"
    page.locator("#cull-bar [data-flag='picked']").tap()
    page.wait_for_function(f"fetch('/api/buffer?limit=500').then(r => r.json()).then(d => "
                           f"d.photos.some(p => p.id === {first} && p.rating === 5 && p.flag === 'picked'))")
    measured(page, 8)
    page.wait_for_function("document.querySelector('#ed-img').complete")
    shot(page, "iphone-14-1-viewer")
    swipe(page, -160)  # the next photo
    page.wait_for_function("document.querySelector('#ed-pos').textContent.startsWith('2 /')")
    assert page.get_attribute("#cull-bar [data-rate='5']", "aria-pressed") == "false"
    page.locator("#cull-bar [data-flag='rejected']").tap()
    assert page.get_attribute("#cull-bar", "data-flag") == "rejected"
    swipe(page, 160)
    page.wait_for_function("document.querySelector('#ed-pos').textContent.startsWith('1 /')")
    assert page.get_attribute("#cull-bar", "data-flag") == "picked"
    page.locator("[data-ed=close]").tap()
    page.wait_for_selector("#editor", state="hidden")

    # Filters: a chip opens the sheet; the choice is in the URL and a reload keeps it.
    page.locator("#filter-open").tap()
    page.locator("#filter-sheet [aria-label='Flag'] [data-value='picked']").tap()
    page.wait_for_function("document.querySelector('[data-f=show]').textContent === 'Show 1 photo'")
    measured(page, 12)
    shot(page, "iphone-14-2-filter-sheet")
    page.locator("[data-f=show]").tap()
    page.reload()
    page.wait_for_selector(f"#grid .tile[data-id='{first}']")
    assert "flag=picked" in page.url
    assert page.locator("#grid .tile").count() == 1
    shot(page, "iphone-14-3-filtered")
    page.locator(".chips .chip-on[data-clear=flag]").tap()
    page.wait_for_function("document.querySelectorAll('#grid .tile').length > 10")

    # Long-press selects, then taps add; the batch bar publishes them in one request.
    page.wait_for_function("document.querySelectorAll('#grid .tile img.ok').length >= 6")
    long_press(page, tile(page, 2))
    page.wait_for_selector("#batch-bar:not([hidden])")
    assert page.locator("#editor").is_hidden()
    tile(page, 3).tap()
    tile(page, 4).tap()
    ids = [int(tile(page, i).get_attribute("data-id")) for i in (2, 3, 4)]
    assert sorted(selected(page)) == sorted(ids)
    assert page.inner_text("#bb-count") == "3 selected"
    measured(page, 12)
    shot(page, "iphone-14-4-selected")
    page.locator("#batch-bar [data-b=rate]").tap()
    page.locator("#batch-rate [data-value='2']").tap()
    for photo_id in ids:
        page.wait_for_function(f"document.querySelector(\"#grid .tile[data-id='{photo_id}'] .m-stars\")"
                               "?.textContent === '★★'")
    assert page.inner_text("#bb-count") == "3 selected"  # still selected: publish them next
    broken = break_buffer_file(config, ids[-1])
    batch_publish(page, config, ids, "iphone-14-5-batch-published", broken)

    long_press(page, tile(page, 8))
    total = get(page, "/api/buffer?limit=1")["total"]
    page.locator("#batch-bar [data-b=all]").tap()  # every photo of the filter, loaded or not
    page.wait_for_function(f"document.querySelector('#bb-count').textContent === '{total} selected'")
    page.locator("#batch-bar [data-b=clear]").tap()
    page.wait_for_selector("#batch-bar", state="hidden")
    assert not selected(page)
    long_press(page, tile(page, 8))
    tile(page, 9).tap()
    rest = [int(tile(page, i).get_attribute("data-id")) for i in (8, 9)]
    delete_and_undo(page, rest, "iphone-14-6-deleted-undo")
    shot(page, "iphone-14-7-buffer")
    assert not problems, problems
    context.close()

