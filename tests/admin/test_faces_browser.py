"""The "Find my photos" card in the admin on a phone (Debian's Chromium through Playwright): off by
default with the default consent text, turned on with an edited text, turned off after a warning."""

from __future__ import annotations

import pytest
from test_admin_browser import (  # noqa: F401 (fixtures)
    PHONES,
    login,
    photos,
    playwright_browser,
    server,
    shot,
)

from appliance.publish import face_settings
from appliance.store import Store

pytestmark = pytest.mark.browser


def test_find_my_photos_card_on_a_phone(playwright_browser, server, config, console_guard):  # noqa: F811
    context = playwright_browser.new_context(**PHONES["iphone"])
    page = console_guard(context.new_page())
    login(page, server)
    page.locator(".tabbar a[data-tab=settings]").tap()
    card = page.locator("#form-faces")
    page.wait_for_function("() => document.querySelector('#faces-state').textContent.startsWith('Off')")
    assert not card.locator("input[name=enabled]").is_checked()
    assert card.locator("textarea").input_value() == face_settings.DEFAULT_CONSENT
    card.scroll_into_view_if_needed()
    shot(page, "iphone-faces-off")

    card.locator("input[name=enabled]").tap()
    card.locator("textarea").fill("Your selfie stays on your phone. Agree?")
    card.locator("button[type=submit]").tap()
    page.wait_for_function("() => document.querySelector('#faces-state').textContent.startsWith('On')")
    page.evaluate("() => { document.querySelector('#toast').hidden = true; }")
    shot(page, "iphone-faces-on")
    store = Store(config.db_path)
    event_id = store.current_event()["id"]
    assert face_settings.load(store, event_id) == face_settings.FaceSettings(
        True, "Your selfie stays on your phone. Agree?")

    card.locator("input[name=enabled]").tap()
    card.locator("button[type=submit]").tap()
    sheet = page.locator("#sheet")
    sheet.wait_for()
    assert "Turn off Find my photos?" in sheet.inner_text()
    sheet.locator("[data-sheet=ok]").tap()
    page.wait_for_function("() => document.querySelector('#faces-state').textContent.startsWith('Off')")
    assert face_settings.load(store, event_id).enabled is False
    store.close()
    context.close()
