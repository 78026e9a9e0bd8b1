"""The "Find my photos" settings API (Flask test client, real store): login and CSRF required, off by
default with the default consent text, saved per event, bad input refused, the manifest follows."""

from __future__ import annotations

import json

import pytest
from support.sessions import login

from appliance.publish import face_settings
from appliance.store import Store


def test_login_and_csrf_required(client):
    assert client.get("/api/settings/faces").status_code == 401
    login(client)  # logged in, but no CSRF header
    res = client.put("/api/settings/faces", json={"enabled": True})
    assert res.status_code == 400 and "CSRF" in res.get_json()["error"]


def test_off_by_default_then_on_with_an_edited_text(authed, config):
    got = authed.get("/api/settings/faces").get_json()
    assert got["enabled"] is False
    assert got["consent"] == got["default_consent"] == face_settings.DEFAULT_CONSENT
    assert (got["scanned"], got["faces"], got["waiting"], got["published_version"]) == (0, 0, 0, 0)
    text = "Selfie stays on your phone.\nOK?"
    res = authed.put("/api/settings/faces", json={"enabled": True, "consent": f"  {text}  "})
    assert res.status_code == 200 and res.get_json()["enabled"] is True and res.get_json()["consent"] == text
    store = Store(config.db_path)
    event = store.current_event()
    assert face_settings.load(store, event["id"]) == face_settings.FaceSettings(True, text)
    assert store.pending_manifest(event["id"]) is not None  # guests hear of the change
    local = json.loads((config.folder("web") / event["slug"] / "manifest.json").read_text())
    assert "faces" not in local  # on, but no index written yet
    store.close()
    back = authed.put("/api/settings/faces", json={"consent": ""}).get_json()
    assert back["enabled"] is True and back["consent"] == face_settings.DEFAULT_CONSENT


def test_another_event_keeps_its_own_setting(authed):
    first = authed.get("/api/settings/faces").get_json()["event"]
    authed.put("/api/settings/faces", json={"enabled": True})
    res = authed.post("/api/events", json={"slug": "second", "title": "Second"})
    assert res.status_code == 201
    got = authed.get("/api/settings/faces").get_json()
    assert (got["event"], got["enabled"]) == ("second", False)
    first_id = next(e["id"] for e in res.get_json()["events"] if e["slug"] == first)
    authed.post("/api/events/current", json={"id": first_id})
    got = authed.get("/api/settings/faces").get_json()
    assert (got["event"], got["enabled"]) == (first, True)


@pytest.mark.parametrize(("body", "message"), [
    ({"enabled": "yes"}, "enabled must be true or false"),
    ({"consent": 5}, "consent must be text"),
    ({"consent": "x" * 2001}, "at most 2000 characters"),
    ({"consent": "a\x00b"}, "control characters"),
    ({"other": 1}, "unknown face search setting 'other'"),
])
def test_bad_input_is_refused_with_a_reason(authed, body, message):
    res = authed.put("/api/settings/faces", json=body)
    assert res.status_code == 400 and message in res.get_json()["error"]
    assert authed.get("/api/settings/faces").get_json()["enabled"] is False


def test_manifest_names_the_published_index_only_while_on(authed, config):
    store = Store(config.db_path)
    event = store.current_event()
    store.face_index_written(event["id"], "0" * 64, "events/x/faces.bin", "/nowhere", 20)
    authed.put("/api/settings/faces", json={"enabled": True, "consent": "Agree?"})
    local = json.loads((config.folder("web") / event["slug"] / "manifest.json").read_text())
    assert local["faces"] == {"v": 1, "consent": "Agree?", "src": "faces.bin"}  # a solo event: the plain name
    authed.put("/api/settings/faces", json={"enabled": False})
    local = json.loads((config.folder("web") / event["slug"] / "manifest.json").read_text())
    assert "faces" not in local
    store.close()
