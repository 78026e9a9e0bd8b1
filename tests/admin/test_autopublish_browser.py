"""Auto-publish in the admin on a phone (Debian's Chromium through Playwright): a rule set in the
settings card, the countdown on photos in their grace window, and the ✕ that rejects one (its
auto-publish is cancelled; the other one is published when its window ends)."""

from __future__ import annotations

import re
import shutil
import time

import pytest
from test_admin_browser import (  # noqa: F401 (fixtures)
    PHONES,
    login,
    photos,
    playwright_browser,
    server,
    shot,
)

from appliance.ingest.importer import Importer
from appliance.publish.autopublish import AutoPublisher
from appliance.publish.worker import Publisher
from appliance.store import Store

pytestmark = pytest.mark.browser
CARD = "card EOS_DIGITAL (/dev/sdz1)"


def test_rule_and_countdown_on_a_phone(playwright_browser, server, config, photos,  # noqa: F811
                                       console_guard,
                                       samples, tmp_path):
    context = playwright_browser.new_context(**PHONES["iphone"], bypass_csp=True)
    page = console_guard(context.new_page())
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, server)
    page.locator(".tabbar a[data-tab=settings]").tap()
    card_rule = page.locator("#ap-sources form[data-kind=card]")
    card_rule.wait_for()
    assert page.locator("#ap-sources form").count() == 3  # any card, hot folder, tether (no FTP account)
    card_rule.scroll_into_view_if_needed()
    card_rule.locator("select").select_option("all")
    card_rule.locator("input[name=value]").fill("90")
    card_rule.locator("button[type=submit]").tap()
    page.wait_for_function("document.querySelector('#toast').textContent.includes('Auto-publish set')")
    page.evaluate("document.querySelector('#toast').hidden = true")
    page.locator("#autopublish-card").scroll_into_view_if_needed()
    shot(page, "iphone-12-autopublish-rules")
    store = Store(config.db_path)
    event_id = store.current_event()["id"]
    [rule] = store.autopublish_rules(event_id)
    assert (rule["source_kind"], rule["mode"], rule["value"]) == ("card", "all", 90)
    assert page.inner_text("#ap-sources form[data-kind=card] .ap-state").lower() == "on"

    # two frames arrive from a card; the publish service's tick sees them
    card = tmp_path / "new-card"
    card.mkdir()
    for name in ("DSCN0038.jpg", "DSCN0040.jpg"):
        shutil.copy(samples / "gps" / name, card / f"NEW_{name}")
    Importer(config, store).import_paths([(p, None) for p in sorted(card.iterdir())], source=CARD)
    new = [r["id"] for r in store.rows("SELECT id FROM photos WHERE original_name LIKE 'NEW_%' ORDER BY id")]
    auto = AutoPublisher(store, Publisher(config, store))
    assert auto.tick() == 0 and len(store.autopublish_waiting(event_id)) == 2

    page.goto(f"{server}/#buffer")
    page.reload()  # the new photos are in the page's first buffer page
    page.wait_for_selector("#grid .tile .ap-count")
    counting = page.locator("#grid .tile .ap-count")
    page.wait_for_function("document.querySelectorAll('#grid .tile .ap-count').length === 2")
    assert re.fullmatch(r"Auto 1:[23]\d", counting.first.locator(".ap-time").inner_text()), \
        counting.first.inner_text()
    tiles = {int(t.get_attribute("data-id")) for t in page.locator("#grid .tile:has(.ap-count)").all()}
    assert tiles == set(new)
    first = page.locator(f"#grid .tile[data-id='{new[0]}']")
    first.scroll_into_view_if_needed()
    time.sleep(1.1)  # the countdown moves
    shot(page, "iphone-13-autopublish-countdown")

    first.locator(".ap-stop").tap()  # rejects the photo: its auto-publish is cancelled
    page.wait_for_function(f"document.querySelector(\"#grid .tile[data-id='{new[0]}']\")"
                           ".classList.contains('rejected')")
    assert page.locator(f"#grid .tile[data-id='{new[0]}'] .ap-count").count() == 0
    assert page.locator(f"#grid .tile[data-id='{new[1]}'] .ap-count").count() == 1
    assert page.locator("#editor").is_hidden()  # the ✕ did not open the editor
    assert store.scalar("SELECT 1 FROM photo_rejections WHERE photo_id = ?", (new[0],))

    assert auto.tick(time.time() + 91) == 1
    assert store.autopublish_photo(new[0])["state"] == "skipped"
    assert store.autopublish_photo(new[1])["state"] == "requested"
    assert store.scalar("SELECT COUNT(*) FROM publications WHERE photo_id = ?", (new[0],)) == 0
    page.wait_for_function(f"!document.querySelector(\"#grid .tile[data-id='{new[1]}'] .ap-count\")",
                           timeout=10_000)  # gone at the next refresh of the waiting list
    store.close()
    assert not errors, errors
    context.close()
