"""Roles on every admin route: the Flask url_map is enumerated, so a new route cannot be forgotten.

Each rule is requested with a valid CSRF token as the owner, the editor and the viewer. A viewer
is refused every state change, an editor every change that is not culling or publishing, and an
endpoint missing from the permission table is the owner's alone. Every successful change is in
the audit log.
"""

from __future__ import annotations

import pytest
from support.accounts import app_with_users, client_as, concrete, import_samples

from appliance.admin import roles
from appliance.store import Store

SAFE = {"GET", "HEAD", "OPTIONS"}
# What each role may change, written out here (not read from the table): a route added to the
# table for a role fails this test until someone decides it here too.
VIEWER_CHANGES = {"accounts.change_password"}
EDITOR_CHANGES = VIEWER_CHANGES | {
    "api.publish", "api.reject", "api.restore", "api.unpublish", "api.retry", "culling.rate",
    "culling.set_flag", "culling.batch", "culling.undo", "culling.export_xmp", "upload.upload"}
OWNER_ONLY_READS = {  # bucket, settings, cameras and accounts are not the others' to read either
    "settings.all_settings", "settings.get_event", "cameras.cameras", "cameras.download_certificate",
    "accounts.accounts_page", "accounts.audit_export", "publish_api.get_settings", "watermark.get_watermark",
    "housekeeping.get_folders", "housekeeping.cleanup_info", "autopublish.get_rules"}


@pytest.fixture
def app(config):  # noqa: ANN001, ANN201
    return app_with_users(config)


@pytest.fixture
def buffered(config, samples):  # noqa: ANN001, ANN201
    return import_samples(config, samples)


def rules(app) -> list[tuple[str, str, str]]:  # noqa: ANN001
    """(endpoint, method, path) of every rule but the open ones (login, invite, health, static)."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in roles.OPEN:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, concrete(rule.rule)))
    return sorted(found)


def test_the_open_endpoints_are_only_these():
    assert {"auth.login", "auth.logout", "pages.health", "static", "metrics.metrics",
                          "accounts.invite"} == roles.OPEN


@pytest.mark.parametrize("role", ["viewer", "editor", "owner"])
def test_every_route_for_every_role(app, role):
    client, token = client_as(app, role)
    checked = 0
    for endpoint, method, path in rules(app):
        res = client.open(path, method=method, json={}, headers={"X-CSRFToken": token})
        refused = not roles.may(role, endpoint)
        assert res.status_code != 401, f"{role}: {method} {path} lost the session"
        assert (res.status_code == 403) == refused, f"{role}: {method} {path} answered {res.status_code}"
        if method not in SAFE:
            allowed = {"viewer": VIEWER_CHANGES, "editor": EDITOR_CHANGES}.get(role)
            if allowed is not None:
                assert refused == (endpoint not in allowed), f"{role} may {'not ' * refused}{method} {path}"
        elif role != "owner" and endpoint in OWNER_ONLY_READS:
            assert refused, f"{role} may read {path}"
        checked += 1
    assert checked >= 60


def test_a_refusal_says_why(app):
    client, token = client_as(app, "viewer")
    res = client.post("/api/publish", json={"id": 1}, headers={"X-CSRFToken": token})
    assert res.status_code == 403 and res.get_json()["error"] == "vic is a viewer: this needs the editor role"
    page = client.get("/accounts")
    assert page.status_code == 403 and "needs the owner role" in page.get_data(as_text=True)


def test_an_editor_may_batch_cull_but_not_batch_delete(app, config, buffered):
    client, token = client_as(app, "editor")
    headers = {"X-CSRFToken": token}
    res = client.post("/api/batch", json={"action": "delete", "ids": buffered}, headers=headers)
    assert res.status_code == 403
    res = client.post("/api/batch", json={"action": "rate", "query": {"filter": "all"}, "value": 3},
                      headers=headers)
    assert res.status_code == 202
    store = Store(config.db_path)
    entry = store.audit_log(limit=1)[0]  # a batch by filter names its photos from its results
    store.close()
    assert (entry["action"], entry["detail"]["value"]) == ("culling.batch", 3)
    assert sorted(entry["photo_ids"]) == buffered
    owner, owner_token = client_as(app, "owner")
    res = owner.post("/api/batch", json={"action": "delete", "ids": buffered[:1]},
                     headers={"X-CSRFToken": owner_token})
    assert res.status_code == 202


def test_a_route_missing_from_the_table_is_the_owners_alone(config):
    app = app_with_users(config)
    app.add_url_rule("/api/new-thing", "new_thing", lambda: {"ok": True}, methods=["GET", "POST"])
    for role, status in (("viewer", 403), ("editor", 403), ("owner", 200)):
        client, token = client_as(app, role)
        assert client.get("/api/new-thing").status_code == status
        assert client.post("/api/new-thing", headers={"X-CSRFToken": token}).status_code == status


def test_every_successful_change_is_in_the_audit_log_and_no_refused_one(app, config):
    """Every state-changing rule, as the owner: an answer under 400 adds exactly one entry naming
    the endpoint and the owner; anything else adds none."""
    client, token = client_as(app, "owner")
    store = Store(config.db_path)
    succeeded = 0
    for endpoint, method, path in rules(app):
        if method in SAFE:
            continue
        before = store.audit_log(limit=1)
        res = client.open(path, method=method, json={}, headers={"X-CSRFToken": token})
        after = store.audit_log(limit=1)
        if res.status_code < 400:
            succeeded += 1
            assert after[0]["id"] != (before[0]["id"] if before else None), f"{method} {path} not audited"
            entry = after[0]
            assert (entry["action"], entry["user_name"], entry["role"]) == (endpoint, "owner", "owner")
        else:
            assert after == before, f"{method} {path} answered {res.status_code} but was audited"
    for role in ("viewer", "editor"):
        other, other_token = client_as(app, role)
        last = store.audit_log(limit=1)[0]
        assert (last["action"], last["role"]) == ("login", role)
        res = other.put("/api/settings/event", json={"title": "x"}, headers={"X-CSRFToken": other_token})
        assert res.status_code == 403 and store.audit_log(limit=1)[0]["id"] == last["id"]
    store.close()
    assert succeeded >= 1
