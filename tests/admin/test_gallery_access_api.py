"""The event's gallery privacy in the admin: the password (set, replaced, removed; only its record
kept and queued for the bucket) and the order new photos take in the gallery (manifest)."""

from __future__ import annotations

import json

import pytest
from support.publications import import_samples, publish_many
from support.sessions import login

from appliance.publish import gallery_access, manifest

URL = "/api/settings/gallery-password"


def access_jobs(store) -> list[str]:  # noqa: ANN001
    return [r["key"] for r in store.rows("SELECT key FROM jobs WHERE kind = 'upload' AND state = 'pending'")]


def test_password_needs_login_and_csrf(client, store):
    assert client.get(URL).status_code == 401
    assert client.put(URL, json={"password": "secret"}).status_code in (400, 401)  # CSRF is checked first
    login(client)  # a session, but no CSRF header
    res = client.put(URL, json={"password": "secret"})
    assert res.status_code == 400 and "CSRF" in res.get_json()["error"]
    assert client.get(URL).get_json()["protected"] is False and access_jobs(store) == []


def test_set_replace_and_remove(authed, store, config):
    event = store.current_event()
    res = authed.put(URL, json={"password": "rose garden"})
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["protected"] is True and res.get_json()["set_at"]
    assert "rose garden" not in json.dumps(res.get_json())
    record = gallery_access.current(store, event["id"])
    assert gallery_access.matches(record, "rose garden")
    assert "rose garden" not in json.dumps(store.rows("SELECT * FROM settings"))
    assert access_jobs(store) == [f"{config.bucket.prefix.strip('/')}/{event['slug']}/access.json"]

    authed.put(URL, json={"password": "tulip field"})
    record = gallery_access.current(store, event["id"])
    assert gallery_access.matches(record, "tulip field") and not gallery_access.matches(record, "rose garden")
    on_disk = json.loads(gallery_access.local_path(config, event["slug"]).read_text())
    assert on_disk["hash"] == record["hash"]  # what the (still pending) upload sends is the newest

    res = authed.delete(URL)
    assert res.get_json() == {"protected": False, "set_at": None, "min_length": gallery_access.MIN_LENGTH}
    assert json.loads(gallery_access.local_path(config, event["slug"]).read_text()) == {"v": 1, "open": True}


@pytest.mark.parametrize("body, message", [
    ({"password": "abc"}, "at least 4"), ({"password": "x" * 129}, "at most 128"),
    ({"password": 1234}, "must be text"), ({"pass": "abcd"}, "unknown field"),
])
def test_password_validation(authed, store, body, message):
    res = authed.put(URL, json=body)
    assert res.status_code == 400 and message in res.get_json()["error"]
    assert access_jobs(store) == []


def test_capture_order_sorts_the_manifest_and_tells_the_gallery(authed, store, config, samples):
    ids = import_samples(config, store, samples, ["DSCN0021.jpg", "DSCN0010.jpg", "DSCN0012.jpg"])
    ids.sort(key=lambda i: store.photo(i)["capture_time"], reverse=True)
    pubs = publish_many(config, store, ids)  # the newest frame first: the last published is the oldest
    event_id = store.current_event()["id"]
    newest = manifest.build(store, event_id, live_only=False)
    assert [p["name"] for p in newest["photos"]] == [p["name"] for p in reversed(pubs)]
    assert "order" not in newest["event"]

    res = authed.put("/api/settings/event", json={"order": "capture"})
    assert res.status_code == 200 and res.get_json()["order"] == "capture"
    built = manifest.build(store, event_id, live_only=False)
    assert built["event"]["order"] == "capture"
    taken = [p["taken"] for p in built["photos"]]
    assert taken == sorted(taken, reverse=True) and taken != [p["taken"] for p in newest["photos"]]
    local = json.loads((config.folder("web") / "wedding" / "manifest.json").read_text())
    assert local["event"]["order"] == "capture"

    assert authed.put("/api/settings/event", json={"order": "random"}).status_code == 400
    authed.put("/api/settings/event", json={"order": "newest"})
    assert "order" not in manifest.build(store, event_id, live_only=False)["event"]


def test_download_size_setting(authed, store):
    event_id = store.current_event()["id"]
    assert authed.get("/api/settings/event").get_json()["download"] == "web"
    res = authed.put("/api/settings/event", json={"download": "full"})
    assert res.status_code == 200 and res.get_json()["download"] == "full"
    assert manifest.download_size(store, event_id) == "full"
    assert manifest.build(store, event_id, live_only=False)["event"]["download"] == "original"
    res = authed.put("/api/settings/event", json={"download": "raw"})
    assert res.status_code == 400 and "download must be one of web, full" in res.get_json()["error"]
