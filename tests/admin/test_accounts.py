"""Accounts through the real admin (Flask test client, real SQLite store): the first owner from
appliance.toml, argon2 hashes, invites, revocable sessions, password changes and the audit log."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import time

import pytest
from support.accounts import USER_PASSWORD, app_with_users, client_as, import_samples
from support.sessions import PASSWORD, csrf_token, login
from werkzeug.security import generate_password_hash

from appliance.admin import create_app
from appliance.admin.passwords import hash_password, needs_rehash, verify_password
from appliance.admin.roles import token_id
from appliance.publish.worker import Publisher
from appliance.store import Store


@pytest.fixture
def app(config):  # noqa: ANN001, ANN201
    return app_with_users(config)


def _store(config) -> Store:  # noqa: ANN001
    return Store(config.db_path)


def _post_form(client, path: str, token: str, **fields):  # noqa: ANN001, ANN003, ANN202
    return client.post(path, data={"csrf_token": token, **fields})


def test_passwords_are_hashed_with_argon2id():
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert verify_password(stored, "correct horse") and not verify_password(stored, "correct horsE")
    assert stored != hash_password("correct horse")  # salted
    old = generate_password_hash("pw-from-config")  # werkzeug's scrypt, as admin.password_hash holds
    assert verify_password(old, "pw-from-config") and needs_rehash(old) and not needs_rehash(stored)
    assert not verify_password("$argon2id$garbage", "x")


def test_the_configured_password_becomes_the_owner_account(app, config):
    store = _store(config)
    owner = store.user_named("owner")
    assert owner["role"] == "owner" and owner["password_hash"].startswith("$argon2id$")
    store.close()
    for name in ("", "owner", "OWNER"):  # the old one-password login still works
        client = app.test_client()
        login(client, PASSWORD, name)
        assert client.get("/api/me").get_json() == {"name": "owner", "role": "owner"}


def test_a_configured_password_hash_is_upgraded_to_argon2_at_the_first_login(config, tmp_path):
    hashed = generate_password_hash("hashed pw 1")
    admin = dataclasses.replace(config.admin, password="", password_hash=hashed)
    app = create_app(dataclasses.replace(config, admin=admin))
    app.config["TESTING"] = True
    store = _store(config)
    assert store.first_owner()["password_hash"].startswith("scrypt:")
    login(app.test_client(), "hashed pw 1")
    assert store.first_owner()["password_hash"].startswith("$argon2id$")
    store.close()


def test_changing_the_password_in_appliance_toml_resets_the_owners(app, config):
    client = app.test_client()
    login(client)
    admin = dataclasses.replace(config.admin, password="a new config pw")
    again = create_app(dataclasses.replace(config, admin=admin))  # the next start
    again.config["TESTING"] = True
    assert client.get("/api/status").status_code == 401  # the owner's sessions ended
    login(again.test_client(), "a new config pw")
    store = _store(config)
    assert store.audit_log(limit=5)[1]["action"] == "owner password reset from appliance.toml"
    store.close()
    create_app(dataclasses.replace(config, admin=admin))  # same password: nothing is reset
    login(again.test_client(), "a new config pw")


def test_login_names_the_user_and_refuses_a_wrong_password(app):
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    res = client.post("/login", data={"name": "vic", "password": PASSWORD, "csrf_token": token})
    assert res.status_code == 401 and "Wrong name or password" in res.get_data(as_text=True)
    res = client.post("/login", json={"name": "vic", "password": USER_PASSWORD},
                      headers={"X-CSRFToken": token})
    assert res.get_json() == {"ok": True, "name": "vic", "role": "viewer"}
    page = client.get("/").get_data(as_text=True)
    assert 'data-role="viewer"' in page and 'id="me"' in page and "vic" in page


def test_an_invite_works_once_on_this_appliances_address(app, config):
    owner, token = client_as(app, "owner")
    res = _post_form(owner, "/accounts/invites", token, role="editor", hours="1")
    assert res.status_code == 302
    page = owner.get("/accounts").get_data(as_text=True)
    url = re.search(r'value="(http://localhost/invite/[^"]+)" aria-label="Invite link"', page).group(1)
    assert 'src="data:image/svg+xml' in page  # its QR code
    assert "invite/" not in owner.get("/accounts").get_data(as_text=True)  # shown once
    path = url.removeprefix("http://localhost")
    guest = app.test_client()
    form = guest.get(path)
    assert form.status_code == 200 and "invited as" in form.get_data(as_text=True)
    gtoken = csrf_token(form.get_data(as_text=True))
    assert _post_form(guest, path, gtoken, name="owner", password="long enough").status_code == 400  # taken
    assert _post_form(guest, path, gtoken, name="anna", password="short").status_code == 400
    res = _post_form(guest, path, gtoken, name="anna", password="long enough")
    assert res.status_code == 302
    assert guest.get("/api/me").get_json() == {"name": "anna", "role": "editor"}
    other = app.test_client()
    assert other.get(path).status_code == 410  # once
    res = other.post(path, data={"csrf_token": gtoken, "name": "ben", "password": "long enough"})
    assert res.status_code in (400, 410)
    store = _store(config)
    assert store.user_named("ben") is None
    accepted = store.audit_log(limit=1)[0]
    assert [accepted[k] for k in ("action", "user_name", "role")] == ["invite accepted", "anna", "editor"]
    store.close()


def test_an_expired_or_cancelled_invite_opens_nothing(app, config):
    store = _store(config)
    owner_id = store.first_owner()["id"]
    store.add_invite(token_id("old-token"), "viewer", owner_id, time.time() - 1)
    store.add_invite(token_id("cancel-me"), "viewer", owner_id, time.time() + 3600)
    client = app.test_client()
    assert client.get("/invite/old-token").status_code == 410
    owner, token = client_as(app, "owner")
    assert _post_form(owner, f"/accounts/invites/{token_id('cancel-me')}/cancel", token).status_code == 302
    assert client.get("/invite/cancel-me").status_code == 410
    assert client.get("/invite/never-made").status_code == 410
    store.close()


def test_the_owner_revokes_a_session_and_a_password_change_ends_the_others(app, config):
    phone, _ = client_as(app, "editor")
    laptop, laptop_token = client_as(app, "editor")
    owner, token = client_as(app, "owner")
    store = _store(config)
    phone_session = [s for s in store.sessions() if s["name"] == "edda"][-1]  # the least recently seen
    assert _post_form(owner, f"/accounts/sessions/{phone_session['id']}/revoke", token).status_code == 302
    assert [c.get("/api/status").status_code for c in (phone, laptop)] == [401, 200]
    tablet, _ = client_as(app, "editor")
    bad = _post_form(laptop, "/account/password", laptop_token, current_password="wrong",
                     new_password="x" * 9)
    assert bad.status_code == 400 and "current password is wrong" in bad.get_data(as_text=True)
    res = _post_form(laptop, "/account/password", laptop_token, current_password=USER_PASSWORD,
                     new_password="a brand new one")
    assert res.status_code == 302
    assert [c.get("/api/status").status_code for c in (laptop, tablet)] == [200, 401]
    client = app.test_client()
    login(client, "a brand new one", "edda")
    entry = store.audit_log(limit=2)[1]
    assert entry["action"] == "accounts.change_password" and "a brand new one" not in str(entry["detail"])
    store.close()


def test_the_owner_changes_a_role_or_removes_someone_and_keeps_an_owner(app, config):
    store = _store(config)
    vic = store.user_named("vic")["id"]
    viewer, _ = client_as(app, "viewer")
    owner, token = client_as(app, "owner")
    assert _post_form(owner, f"/accounts/users/{vic}/role", token, role="editor").status_code == 302
    assert viewer.get("/api/status").status_code == 401  # the new role starts at the next login
    again = app.test_client()
    login(again, USER_PASSWORD, "vic")
    assert again.get("/api/me").get_json()["role"] == "editor"
    assert _post_form(owner, f"/accounts/users/{vic}/remove", token).status_code == 302
    assert again.get("/api/status").status_code == 401
    first = store.first_owner()["id"]
    assert _post_form(owner, f"/accounts/users/{first}/role", token, role="viewer").status_code == 409
    assert _post_form(owner, f"/accounts/users/{first}/remove", token).status_code == 409
    store.close()


def test_the_audit_log_names_who_changed_what_and_which_photos(app, config, samples):
    ids = import_samples(config, samples)
    editor, token = client_as(app, "editor")
    headers = {"X-CSRFToken": token}
    assert editor.post("/api/rate", json={"ids": ids, "rating": 4}, headers=headers).status_code == 200
    assert editor.post("/api/reject", json={"id": ids[0]}, headers=headers).status_code == 200
    res = editor.post("/api/publish", json={"id": ids[1]}, headers=headers)
    assert res.status_code == 202
    pub = res.get_json()["id"]
    store = _store(config)
    assert Publisher(config, store).run_once()  # rendered: now it can be unpublished
    assert editor.post("/api/unpublish", json={"id": pub}, headers=headers).status_code == 200
    owner, otoken = client_as(app, "owner")
    res = owner.post("/api/cameras", json={"user": "cam1", "password": "camera pw 1"},
                     headers={"X-CSRFToken": otoken})
    assert res.status_code == 201
    log = store.audit_log(limit=6)[::-1]
    store.close()
    got = [(e["user_name"], e["role"], e["action"], e["photo_ids"]) for e in log]
    assert got == [
        ("edda", "editor", "culling.rate", ids), ("edda", "editor", "api.reject", [ids[0]]),
        ("edda", "editor", "api.publish", [ids[1]]), ("edda", "editor", "api.unpublish", [ids[1]]),
        ("owner", "owner", "login", []), ("owner", "owner", "cameras.add_camera", [])]
    assert log[-1]["detail"] == {"password": "…", "user": "cam1"} and log[0]["detail"]["rating"] == 4
    assert all(e["event_id"] == log[0]["event_id"] and e["at"] for e in log)
    # the owner's page shows it; the downloads hold all of it
    page = owner.get("/accounts").get_data(as_text=True)
    assert "api.publish" in page and "edda" in page
    rows = list(csv.DictReader(io.StringIO(owner.get("/accounts/audit.csv").get_data(as_text=True))))
    assert [r["action"] for r in rows][-2:] == ["login", "cameras.add_camera"]
    assert rows[-6]["photo_ids"] == " ".join(map(str, ids))
    data = owner.get("/accounts/audit.json")
    assert "attachment" in data.headers["Content-Disposition"]
    assert data.get_json()["entries"][-1]["action"] == "cameras.add_camera"


def test_an_upload_is_audited_with_its_file_and_photo(app, config, samples):
    editor, token = client_as(app, "editor")
    data = (samples / "gps" / "DSCN0021.jpg").read_bytes()
    res = editor.post("/api/upload?report=1", data=data, content_type="image/jpeg",
                      headers={"X-Filename": "IMG_0021.JPG", "X-CSRFToken": token})
    assert res.status_code == 201
    refused = editor.post("/api/upload?report=1", data=b"not a photo", content_type="image/jpeg",
                          headers={"X-Filename": "IMG_0022.JPG", "X-CSRFToken": token})
    assert refused.status_code == 200 and refused.get_json()["ok"] is False
    store = _store(config)
    bad, good = store.audit_log(limit=2)
    store.close()
    photo = res.get_json()["id"]
    assert (good["action"], good["user_name"], good["photo_ids"]) == ("upload.upload", "edda", [photo])
    assert good["detail"] == {"file": "IMG_0021.JPG", "report": "1"}
    assert bad["photo_ids"] == [] and bad["detail"]["refused"]


def test_a_camera_belongs_to_a_user(app, config):
    owner, token = client_as(app, "owner")
    store = _store(config)
    vic = store.user_named("vic")["id"]
    headers = {"X-CSRFToken": token}
    res = owner.post("/api/cameras", json={"user": "cam-v", "password": "camera pw 1", "owner_id": vic},
                     headers=headers)
    assert res.status_code == 201
    listed = {a["user"]: (a["owner_name"], a["owner_role"]) for a in res.get_json()["accounts"]}
    assert listed == {"cam-v": ("vic", "viewer")}
    assert {u["name"] for u in res.get_json()["users"]} == {"owner", "edda", "vic"}
    assert owner.put("/api/cameras/cam-v", json={"owner_id": 999}, headers=headers).status_code == 404
    assert owner.put("/api/cameras/cam-v", json={"owner_id": None}, headers=headers).status_code == 200
    assert store.ftp_account_roles() == {"cam-v": "owner"}
    store.close()
