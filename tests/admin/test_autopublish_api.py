"""The auto-publish API of the admin (Flask test client, real store): login and CSRF required, every
source listed with its rule, bad rules refused with a reason, the waiting list."""

from __future__ import annotations

import pytest
from support.sessions import login
from werkzeug.security import generate_password_hash

from appliance.admin import create_app
from appliance.config import Config
from appliance.store import Store


@pytest.fixture
def client(config: Config):
    app = create_app(config)
    app.config["TESTING"] = True
    store = Store(config.db_path)
    store.add_ftp_account("camera-a", generate_password_hash("pw"), "Canon R5, Jane")
    store.add_ftp_account("camera-b", generate_password_hash("pw"))
    store.close()
    return app.test_client()


def test_login_and_csrf_required(client):
    assert client.get("/api/autopublish").status_code == 401
    login(client)  # logged in, but no CSRF header
    res = client.put("/api/autopublish", json={"kind": "card", "mode": "all", "value": 5})
    assert res.status_code == 400 and "CSRF" in res.get_json()["error"]


def test_sources_and_rules(authed, config):
    sources = authed.get("/api/autopublish").get_json()["sources"]
    assert [(s["kind"], s["name"], s["label"], s["mode"]) for s in sources] == [
        ("card", "", "Any card", "off"), ("hotfolder", "", "Hot folder", "off"),
        ("tether", "", "USB tether", "off"), ("ftp", "camera-a", "FTP: camera-a (Canon R5, Jane)", "off"),
        ("ftp", "camera-b", "FTP: camera-b", "off")]
    assert "protected" not in sources[3]["modes"] and "protected" in sources[0]["modes"]
    res = authed.put("/api/autopublish",
                     json={"kind": "ftp", "name": "camera-a", "mode": "rated", "value": 4})
    assert res.status_code == 200
    rule = next(s for s in res.get_json()["sources"] if s["name"] == "camera-a")
    assert (rule["mode"], rule["value"]) == ("rated", 4) and rule["since"]
    store = Store(config.db_path)
    [row] = store.autopublish_rules(store.current_event()["id"])
    assert (row["source_kind"], row["source_name"], row["mode"], row["value"]) == (
        "ftp", "camera-a", "rated", 4)
    store.close()


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"kind": "ftp", "name": "camera-a", "mode": "protected"}, 400, "no protect flag"),
    ({"kind": "ftp", "name": "nobody", "mode": "all"}, 404, "no FTP account"),
    ({"kind": "card", "name": "EOS", "mode": "all"}, 400, "has no name"),
    ({"kind": "card", "mode": "rated", "value": 7}, 400, "1 to 5"),
    ({"kind": "card", "mode": "all", "value": 90000}, 400, "between 0 and 86400"),
    ({"kind": "card", "mode": "rated", "value": 0}, 400, "1 to 5"),
    ({"kind": "card", "mode": "all", "value": "ten"}, 400, "whole number"),
    ({"kind": "other", "mode": "all"}, 400, "no auto-publish rules"),
    ({"kind": "card", "mode": "all", "when": 1}, 400, "unknown auto-publish field"),
])
def test_bad_rules_are_refused(authed, body, status, message):
    res = authed.put("/api/autopublish", json=body)
    assert res.status_code == status and message in res.get_json()["error"], res.get_json()


def test_waiting_is_empty_without_rules(authed):
    data = authed.get("/api/autopublish/waiting").get_json()
    assert data["photos"] == [] and data["now"] > 0
