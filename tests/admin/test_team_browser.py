"""The team card in Debian's Chromium on a phone (390 × 844, touch): the owner makes a join code
(QR and text shown), then takes over another appliance's shard through its confirm sheet; the
photos taken over are listed with their appliance and can be unpublished. Real admin server, real
moto bucket, the console stays silent (console_guard). Screenshots in tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.bucket import bucket_keys
from support.team import LocalAppliance
from support.wsgi import serving_app
from test_admin_browser import PASSWORD, PHONES, playwright_browser, shot  # noqa: F401

from appliance.admin import create_app
from appliance.config import Config
from appliance.store import Store
from appliance.sync import team

pytestmark = pytest.mark.browser
PHONE = PHONES["iphone"]  # 390 × 844, touch
PASS = "correct horse battery"


@pytest.fixture
def two(config: Config, store: Store, tmp_path: Path, moto_url: str, bucket: str,
        samples: Path) -> Iterator[tuple[LocalAppliance, LocalAppliance]]:
    """This admin's appliance (it shared the event) and another that joined; both published."""
    me = LocalAppliance.__new__(LocalAppliance)
    me.config, me.store, me.id, me.samples = config, store, store.appliance_id(), samples
    other = LocalAppliance(tmp_path / "other", moto_url, bucket, samples)
    team.join(other.config, other.store, team.share(config, store, store.current_event(), PASS), PASS)
    me.publish(["DSCN0010.jpg"])
    other.publish(["DSCN0010.jpg", "DSCN0012.jpg"])
    me.sync()
    other.sync()
    yield me, other
    other.close()


@pytest.fixture
def server(config: Config, two: Any) -> Iterator[str]:
    with serving_app(create_app(config)) as base:
        yield base


def test_join_code_and_take_over_on_a_phone(playwright_browser, server, two, s3, bucket,  # noqa: F811
                                             console_guard):
    me, other = two
    page = console_guard(playwright_browser.new_context(**PHONE).new_page())
    page.goto(f"{server}/login")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{server}/#settings")
    card = page.locator("#team-card")
    card.wait_for()
    page.locator("#team-info").get_by_text(me.id).wait_for()
    assert page.locator("#team-adopted").is_hidden()

    # A join code: shown as a QR and as text.
    page.fill("#form-team-share input[name=passphrase]", PASS)
    page.click("#form-team-share button[type=submit]")
    page.locator("#team-qr svg").wait_for()
    assert page.input_value("#team-code-text").startswith("J1.")
    card.scroll_into_view_if_needed()
    page.locator("#team-qr").scroll_into_view_if_needed()
    shot(page, "team-join-code")

    # Take over the other appliance: a confirm sheet first; Cancel changes nothing.
    remove = page.locator("#form-team-remove")
    remove.scroll_into_view_if_needed()
    remove.locator("input[name=id]").fill(other.id)
    page.click("#team-take-over")
    page.locator("#sheet:not([hidden])").wait_for()
    assert f"Take over appliance {other.id}?" in page.inner_text("#sheet-title")
    shot(page, "team-take-over-sheet")
    page.click('[data-sheet="cancel"]')
    page.locator("#sheet").wait_for(state="hidden")
    assert me.store.takeovers(me.store.current_event()["id"]) == []
    page.click("#team-take-over")
    page.locator("#sheet:not([hidden])").wait_for()
    page.click('[data-sheet="ok"]')
    adopted = page.locator("#team-adopted")
    adopted.wait_for()
    assert other.id in page.inner_text("#team-takeovers") and "2 photos in the gallery" in page.inner_text(
        "#team-takeovers")
    adopted.scroll_into_view_if_needed()
    page.click("#team-adopted-summary")
    page.locator("#team-adopted-list .event").first.wait_for()
    shot(page, "team-taken-over")
    event = me.store.current_event()
    assert [t["source_id"] for t in me.store.takeovers(event["id"])] == [other.id]
    assert me.store.audit_log(limit=1)[0]["action"] == "team.take_over"

    # The sync writes this shard, then deletes the other's; the photos stay.
    me.sync()
    keys = bucket_keys(s3, bucket, "events/wedding/")
    assert f"events/wedding/manifests/{other.id}.json" not in keys
    assert f"events/wedding/photos/{other.id}.DSCN0012.jpg" in keys

    # Unpublish one photo taken over, from its row.
    row = page.locator("#team-adopted-list .event", has_text=f"{other.id}.DSCN0012")
    row.get_by_role("button").click()
    page.locator("#sheet:not([hidden])").wait_for()
    page.click('[data-sheet="ok"]')
    page.locator("#team-adopted-list .event", has_text=f"{other.id}.DSCN0012").wait_for(state="detached")
    assert "1 photo in the gallery" in page.inner_text("#team-takeovers")
    me.sync()
    keys = bucket_keys(s3, bucket, "events/wedding/")
    assert f"events/wedding/photos/{other.id}.DSCN0012.jpg" not in keys
    assert f"events/wedding/photos/{other.id}.DSCN0010.jpg" in keys
    page.context.close()
