"""Roles in Debian's Chromium on a phone (390 × 844, touch): a viewer sees the photos but no control
that changes anything, and the owner's accounts page makes an invite (link and QR) that another
phone uses to join. The console stays silent (console_guard). Screenshots in tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.accounts import USER_PASSWORD, app_with_users
from support.wsgi import serving_app
from test_admin_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    PHONES,
    photos,
    playwright_browser,
    shot,
)
from werkzeug.security import generate_password_hash

from appliance.config import Config
from appliance.store import Store

pytestmark = pytest.mark.browser
PHONE = PHONES["iphone"]  # 390 × 844, touch


@pytest.fixture
def server(config: Config, photos: list[int]) -> Iterator[str]:  # noqa: F811
    with serving_app(app_with_users(config)) as base:
        yield base


def log_in(page: Any, base: str, name: str, password: str) -> None:
    page.goto(f"{base}/login")
    if name == "vic":
        shot(page, "roles-login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#grid .tile img")


def visible(page: Any, selector: str) -> int:
    return sum(1 for i in range(page.locator(selector).count()) if page.locator(selector).nth(i).is_visible())


def test_a_viewer_sees_no_publish_controls_and_the_owner_invites(playwright_browser, server, photos,  # noqa: F811
                                                                  config, console_guard):
    viewer = console_guard(playwright_browser.new_context(**PHONE).new_page())
    log_in(viewer, server, "vic", USER_PASSWORD)
    assert viewer.inner_text("#me").lower().split() == ["vic", "viewer"]
    assert visible(viewer, ".add-photos") == 0
    viewer.locator("#grid .tile").first.tap()
    viewer.wait_for_selector("#editor:not([hidden])")
    for control in ('[data-ed="publish"]', '[data-ed="reject"]', ".ed-tools", "#cull-bar"):
        assert visible(viewer, control) == 0, f"a viewer sees {control}"
    shot(viewer, "roles-viewer-photo")
    viewer.keyboard.press("Escape")
    viewer.goto(f"{server}/#settings")
    viewer.wait_for_selector("#me-card")
    shown = viewer.eval_on_selector_all("#view-settings .card", "els => els.filter((e) => e.offsetParent)"
                                        ".map((e) => e.id || e.className)")
    assert shown == ["me-card", "card logout"]  # their account and the logout, nothing of the owner's
    shot(viewer, "roles-viewer-settings")
    viewer.click("#me-card a[href='/account']")
    viewer.wait_for_selector("input[name=new_password]")
    shot(viewer, "roles-viewer-account")
    viewer.context.close()

    owner = console_guard(playwright_browser.new_context(**PHONE).new_page())
    log_in(owner, server, "", "correct horse")
    assert owner.inner_text("#me").lower().split() == ["owner"]  # the owner account: its badge alone
    shot(owner, "roles-owner-buffer")
    # the owner gives a camera to the viewer: it will never auto-publish
    store = Store(config.db_path)
    store.add_ftp_account("cam-v", generate_password_hash("camera pw 1"), "Vic's camera")
    owner.goto(f"{server}/#settings")
    row = owner.locator("#cameras-list [data-user=cam-v]")
    row.wait_for()
    row.locator("select").select_option(label="vic (viewer)")
    owner.wait_for_function(
        "() => document.querySelector('#cameras-list').textContent.includes('never auto-publishes')")
    assert store.ftp_account_roles() == {"cam-v": "viewer"}
    store.close()
    owner.locator("#cameras-card").screenshot(path=str(ARTIFACTS / "admin-roles-owner-cameras.png"))
    owner.goto(f"{server}/accounts")
    names = [r.split()[0] for r in owner.locator("#users .acc-row").all_inner_texts()]
    assert names == ["owner", "edda", "vic"]
    owner.select_option("#invites select[name=role]", "viewer")
    owner.click("#invites button[type=submit]")
    owner.wait_for_selector(".invite-new img")
    link = owner.input_value("#invite-url")
    assert link.startswith(f"{server}/invite/")
    targets = owner.eval_on_selector_all(
        ".acc button, .acc .button, .acc select", "els => els.map(e => e.getBoundingClientRect().height)")
    assert targets and min(targets) >= 44
    shot(owner, "roles-owner-accounts", full_page=True)

    guest = console_guard(playwright_browser.new_context(**PHONE).new_page())
    guest.goto(link)
    guest.fill("#name", "guest")
    guest.fill("#password", "a guest password")
    guest.click("button[type=submit]")
    guest.wait_for_selector("#grid .tile img")
    assert guest.inner_text("#me").lower().split() == ["guest", "viewer"]
    owner.reload()
    assert "invite accepted" in owner.inner_text("#audit")
    console_guard.check()
