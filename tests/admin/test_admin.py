"""The admin's auth, CSRF and JSON API through Flask's test client (real SQLite store)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from appliance.admin import create_app
from appliance.config import Config
from appliance.ingest.importer import Importer
from appliance.store import Store


@pytest.fixture
def app(config: Config):
    app = create_app(config)
    app.config["TESTING"] = True
    store = Store(config.db_path)
    store.ensure_event(config.event.slug, config.event.title)
    store.close()
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, page_path: str = "/login") -> str:  # noqa: ANN001
    page = client.get(page_path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def login(client, password: str = "correct horse") -> str:  # noqa: ANN001
    token = csrf_token(client)
    res = client.post("/login", data={"password": password, "csrf_token": token})
    assert res.status_code == 302, res.get_data(as_text=True)
    # The session (and its CSRF token) is renewed at login: take the new token from a page.
    return csrf_token(client, "/")


@pytest.fixture
def buffered(config: Config, samples: Path) -> list[int]:
    card = config.folder("state").parent / "card-src"
    card.mkdir(exist_ok=True)
    for name in ("DSCN0010.jpg", "DSCN0012.jpg"):
        shutil.copy(samples / "gps" / name, card / name)
    store = Store(config.db_path)
    Importer(config, store).import_tree(card)
    ids = [r["id"] for r in store.rows("SELECT id FROM photos ORDER BY id")]
    store.close()
    return ids


PROTECTED_GET = ["/", "/api/status", "/api/buffer", "/api/live", "/thumbs/1"]


@pytest.mark.parametrize("path", PROTECTED_GET)
def test_everything_but_health_needs_login(client, path):
    res = client.get(path, headers={"Accept": "application/json"})
    assert res.status_code in (302, 401)
    if path.startswith("/api/"):
        assert res.status_code == 401 and res.get_json()["error"] == "login required"


def test_health_is_open(client):
    res = client.get("/health")
    assert res.status_code == 200 and res.get_json()["ok"] is True


def test_wrong_password_refused(client):
    token = csrf_token(client)
    res = client.post("/login", data={"password": "nope", "csrf_token": token})
    assert res.status_code == 401
    assert client.get("/api/status").status_code == 401


def test_login_without_csrf_token_refused(client):
    res = client.post("/login", data={"password": "correct horse"})
    assert res.status_code == 400
    assert client.get("/api/status").status_code == 401


def test_session_cookie_flags(client):
    token = csrf_token(client)
    res = client.post("/login", data={"password": "correct horse", "csrf_token": token})
    cookie = res.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_state_changes_need_csrf(client, buffered):
    token = login(client)
    res = client.post("/api/publish", json={"id": buffered[0]})
    assert res.status_code == 400  # CSRF token missing
    res = client.post("/api/publish", json={"id": buffered[0]}, headers={"X-CSRFToken": "bad"})
    assert res.status_code == 400
    res = client.post("/api/publish", json={"id": buffered[0]}, headers={"X-CSRFToken": token})
    assert res.status_code == 202


def test_buffer_publish_live(client, buffered, config):
    token = login(client)
    data = client.get("/api/buffer").get_json()
    assert data["total"] == 2
    assert {p["id"] for p in data["photos"]} == set(buffered)
    thumb = client.get(data["photos"][0]["thumb"])
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    res = client.post("/api/publish", json={"id": buffered[0], "recipe": {"exposure": 0.5}},
                      headers={"X-CSRFToken": token})
    assert res.status_code == 202
    body = res.get_json()
    assert body["state"] == "queued" and body["name"] == "DSCN0010"
    live = client.get("/api/live").get_json()
    assert live["event"] == "wedding"
    assert live["photos"][0]["name"] == "DSCN0010" and live["photos"][0]["sync"] == "publishing"
    assert live["photos"][0]["recipe"]["exposure"] == 0.5


@pytest.mark.parametrize(
    "body, message",
    [
        ({"id": "1"}, "id must be a whole number"),
        ({"id": 1, "recipe": {"exposure": 9}}, "exposure must be between"),
        ({"id": 1, "recipe": {"rotate": 45}}, "rotate must be"),
        ({"id": 1, "recipe": "x"}, "recipe must be an object"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_publish_rejects_bad_input(client, buffered, body, message):
    token = login(client)
    res = client.post("/api/publish", json=body, headers={"X-CSRFToken": token})
    assert res.status_code == 400
    assert message in res.get_json()["error"]


def test_publish_unknown_photo_is_404(client, buffered):
    token = login(client)
    res = client.post("/api/publish", json={"id": 999}, headers={"X-CSRFToken": token})
    assert res.status_code == 404


def test_bad_query_arguments(client):
    login(client)
    assert client.get("/api/buffer?limit=abc").status_code == 400
    assert client.get("/api/buffer?filter=../../etc").status_code == 400
    assert client.get("/api/buffer?limit=100000").status_code == 400


def test_traversal_in_thumb_route_refused(client, buffered):
    login(client)
    for path in ("/thumbs/../state/appliance.db", "/thumbs/%2e%2e%2fappliance.db", "/thumbs/-1"):
        assert client.get(path).status_code == 404


def test_open_redirect_after_login_refused(client):
    token = csrf_token(client)
    res = client.post("/login?next=//evil.example/", data={"password": "correct horse",
                                                           "csrf_token": token})
    assert res.headers["Location"] == "/"
