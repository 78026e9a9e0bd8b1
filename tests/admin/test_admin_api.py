"""The admin's JSON API in depth (Flask test client over a real store, real pipeline, real files)."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from appliance.admin import create_app
from appliance.admin.auth import MAX_FAILURES
from appliance.config import Config, load
from appliance.ingest.importer import Importer
from appliance.publish.worker import Publisher
from appliance.store import Store

PASSWORD = "correct horse"


@pytest.fixture
def app(config: Config):
    app = create_app(config)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def store(config: Config):
    store = Store(config.db_path)
    yield store
    store.close()


def page_token(client, path: str) -> str:  # noqa: ANN001
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def login(client) -> str:  # noqa: ANN001
    token = page_token(client, "/login")
    res = client.post("/login", data={"password": PASSWORD, "csrf_token": token})
    assert res.status_code == 302
    return page_token(client, "/")


@pytest.fixture
def authed(client):
    """A logged-in client whose JSON calls carry the CSRF header."""
    token = login(client)
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    return client


@pytest.fixture
def buffered(config: Config, samples: Path, store: Store) -> list[int]:
    config.ensure_folders()
    card = config.folder("state").parent / "card-src"
    card.mkdir(exist_ok=True)
    for name in ("DSCN0010.jpg", "DSCN0012.jpg", "DSCN0021.jpg"):
        shutil.copy(samples / "gps" / name, card / name)
    shutil.copy(samples / "exif-org" / "fujifilm-dx10.jpg", card / "DX10.jpg")
    Importer(config, store).import_tree(card)
    return [r["id"] for r in store.rows("SELECT id FROM photos ORDER BY id")]


def fake_photos(store: Store, count: int, start: int = 0) -> None:
    """Buffer rows without files (for pagination): capture times one second apart."""
    with store.transaction():
        for i in range(start, start + count):
            store.conn.execute(
                "INSERT INTO photos (sha256, original_name, buffer_path, size, capture_time, imported_at) "
                "VALUES (?, ?, ?, 1000, ?, '2024-01-01T00:00:00Z')",
                (f"{i:064x}", f"IMG_{i:04d}.JPG", f"xx/{i}.jpg",
                 f"2024-06-01T{10 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}"),
            )


# -- access control --------------------------------------------------------------------------------
def routes(app) -> list[tuple[str, str]]:  # noqa: ANN001
    """Every (method, concrete path) of the app, ids filled in with 1."""
    found = []
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return found


OPEN = {("GET", "/health"), ("GET", "/login"), ("POST", "/login"), ("POST", "/logout"),
        ("GET", "/invite/1"), ("POST", "/invite/1")}  # an invite link is its own key (see test_accounts)


def test_every_route_but_health_refuses_anonymous(app, client):
    token = page_token(client, "/login")  # a valid CSRF token, so the login check is what refuses
    checked = 0
    for method, path in routes(app):
        if (method, path) in OPEN or path.startswith("/static/"):
            continue
        res = client.open(path, method=method, json={}, headers={"X-CSRFToken": token})
        assert res.status_code in (401, 302), f"{method} {path} answered {res.status_code} without login"
        if res.status_code == 302:
            assert "/login" in res.headers["Location"]
        checked += 1
    assert checked >= 25


def test_every_state_change_needs_csrf(app, client):
    login(client)
    checked = 0
    for method, path in routes(app):
        if method in ("GET",) or path.startswith("/static/"):
            continue
        res = client.open(path, method=method, json={})
        assert res.status_code == 400, f"{method} {path} answered {res.status_code} without CSRF token"
        if path.startswith("/api/"):
            assert "CSRF" in res.get_json()["error"]
        checked += 1
    assert checked >= 10


def test_security_headers_and_local_assets_only(authed):
    res = authed.get("/")
    csp = res.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    html = res.get_data(as_text=True)
    assert not re.search(r'(src|href)="(https?:)?//', html), "an asset comes from outside the box"
    static = Path(__file__).parents[2] / "appliance" / "admin" / "static"
    for path in (p for p in static.rglob("*") if p.is_file()):  # admin.js and its modules in js/
        assert not re.search(r"url\(\s*['\"]?(https?:)?//|@import|https?://", path.read_text()), path


def test_login_rate_limit_is_shared_by_workers(config, client):
    # Two app instances stand for two gunicorn workers: the count lives in the store.
    other = create_app(config).test_client()
    for attempt in range(MAX_FAILURES):
        c = client if attempt % 2 else other
        res = c.post("/login", json={"password": "nope"}, headers={"X-CSRFToken": page_token(c, "/login")})
        assert res.status_code == 401
    res = client.post("/login", json={"password": PASSWORD},
                      headers={"X-CSRFToken": page_token(client, "/login")})
    assert res.status_code == 429 and int(res.headers["Retry-After"]) > 0
    assert "Too many" in res.get_json()["error"]
    assert client.get("/api/status").status_code == 401
    # Another client on the Wi-Fi is not locked out.
    stranger = create_app(config).test_client()
    stranger.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    res = stranger.post("/login", json={"password": PASSWORD},
                        headers={"X-CSRFToken": page_token(stranger, "/login")})
    assert res.status_code == 200


def test_successful_login_clears_failures(client, store):
    client.post("/login", json={"password": "nope"}, headers={"X-CSRFToken": page_token(client, "/login")})
    assert store.scalar("SELECT COUNT(*) FROM login_failures") == 1
    login(client)
    assert store.scalar("SELECT COUNT(*) FROM login_failures") == 0


@pytest.mark.parametrize("path", [
    "/thumbs/../state/appliance.db", "/thumbs/%2e%2e%2fappliance.db", "/thumbs/..%2f..%2fetc%2fpasswd",
    "/published/..%2f1/thumb", "/api/preview/..%2f..%2fetc%2fpasswd", "/static/..%2fapi.py",
    "/static/../__init__.py", "/api/settings/watermark/image/../../appliance.db",
])
def test_traversal_attempts_are_refused(authed, path):
    res = authed.get(path)
    assert res.status_code in (400, 404), f"{path}: {res.status_code}"
    assert b"sqlite" not in res.data.lower() and b"import" not in res.data


def test_watermark_image_sha_cannot_name_a_path(authed):
    for sha in ("../../appliance", "/etc/passwd", "a" * 63, "A" * 64):
        res = authed.put("/api/settings/watermark", json={"kind": "image", "png": sha})
        assert res.status_code == 400, sha


def test_folder_settings_take_no_client_path(authed, store):
    data = authed.get("/api/settings/folders").get_json()
    assert {f["name"] for f in data["folders"]} == {"buffer", "web", "trash", "archive", "state"}
    res = authed.put("/api/settings/folders", json={"watch": "/etc"})
    assert res.status_code == 400 and "listed folders" in res.get_json()["error"]
    choice = data["choices"][0]  # the configured watch folder is always a choice
    res = authed.put("/api/settings/folders", json={"watch": choice["id"]})
    assert res.status_code == 200 and res.get_json()["watch"] == choice["path"]
    assert store.get_setting("folders") == {"watch": choice["path"]}
    assert authed.put("/api/settings/folders", json={"watch": None}).get_json()["watch_overridden"] is False
    assert authed.put("/api/settings/folders", json={"bogus": 1}).status_code == 400


# -- buffer ----------------------------------------------------------------------------------------
def test_buffer_pages_newest_first_with_a_stable_cursor(authed, store):
    fake_photos(store, 130)
    first = authed.get("/api/buffer?limit=60").get_json()
    assert first["total"] == 130 and len(first["photos"]) == 60 and first["next"]
    assert first["photos"][0]["name"] == "IMG_0129.JPG"
    times = [p["capture_time"] for p in first["photos"]]
    assert times == sorted(times, reverse=True)
    fake_photos(store, 5, start=1000)  # a card imports newer photos meanwhile
    second = authed.get(f"/api/buffer?limit=60&cursor={first['next']}").get_json()
    assert second["photos"][0]["name"] == "IMG_0069.JPG"  # continues where the first page ended
    third = authed.get(f"/api/buffer?limit=60&cursor={second['next']}").get_json()
    assert len(third["photos"]) == 10 and third["next"] is None
    seen = [p["id"] for page in (first, second, third) for p in page["photos"]]
    assert len(seen) == len(set(seen)) == 130


def test_counts_match_what_each_filter_lists(authed, store):
    fake_photos(store, 300)
    event_id = store.current_event()["id"]
    with store.transaction():
        for photo_id in range(1, 301, 3):  # every third photo published, a few of them unpublished
            state = "unpublished" if photo_id % 7 == 0 else "published"
            store.conn.execute(
                "INSERT INTO publications (photo_id, event_id, base, seq, name, recipe, state, requested_at) "
                "VALUES (?, ?, ?, 1, ?, '{}', ?, '2024-01-01T00:00:00Z')",
                (photo_id, event_id, f"P{photo_id}", f"P{photo_id}", state))
        for photo_id in range(2, 301, 10):
            store.conn.execute("INSERT INTO photo_rejections VALUES (?, '2024-01-01T00:00:00Z')", (photo_id,))
    counts = authed.get("/api/buffer").get_json()["counts"]
    for name in ("all", "new", "published", "rejected"):
        listed, cursor = 0, ""
        while True:
            page = authed.get(f"/api/buffer?filter={name}&limit=70&cursor={cursor}").get_json()
            listed += len(page["photos"])
            if not page["next"]:
                break
            cursor = page["next"]
        assert listed == counts[name] == page["total"], name
    assert counts["published"] == 100 - len([i for i in range(1, 301, 3) if i % 7 == 0])


@pytest.mark.parametrize("query", ["cursor=abc", "cursor=W10", "cursor=WyJ4IiwieSJd", "filter=old",
                                   "limit=0", "offset=-1"])
def test_buffer_bad_queries(authed, query):
    res = authed.get(f"/api/buffer?{query}")
    assert res.status_code == 400 and res.get_json()["error"]


def test_filters_reject_restore_and_counts(authed, buffered):
    counts = authed.get("/api/buffer").get_json()["counts"]
    assert counts == {"all": 4, "new": 4, "published": 0, "rejected": 0}
    assert authed.post("/api/reject", json={"id": buffered[0]}).get_json()["rejected"] is True
    assert authed.post("/api/publish", json={"id": buffered[1]}).status_code == 202
    data = authed.get("/api/buffer?filter=new").get_json()
    assert data["counts"] == {"all": 4, "new": 2, "published": 1, "rejected": 1}
    assert {p["id"] for p in data["photos"]} == set(buffered[2:])
    rejected = authed.get("/api/buffer?filter=rejected").get_json()["photos"]
    assert [p["id"] for p in rejected] == [buffered[0]] and rejected[0]["rejected"]
    published = authed.get("/api/buffer?filter=published").get_json()["photos"]
    assert published[0]["state"] == "queued" and published[0]["publication_id"]
    authed.post("/api/restore", json={"id": buffered[0]})
    assert authed.get("/api/buffer").get_json()["counts"]["rejected"] == 0
    assert authed.post("/api/reject", json={"id": 999}).status_code == 404
    assert authed.post("/api/reject", json={"id": "1"}).status_code == 400


# -- preview ---------------------------------------------------------------------------------------
def _image(res) -> Image.Image:  # noqa: ANN001
    assert res.status_code == 200, res.get_data(as_text=True)
    assert res.mimetype == "image/jpeg"
    return Image.open(io.BytesIO(res.data))


def _diff(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two images (resized to the same size), 0..255."""
    from PIL import ImageChops, ImageStat

    a, b = a.convert("L").resize((160, 120)), b.convert("L").resize((160, 120))
    return ImageStat.Stat(ImageChops.difference(a, b)).mean[0]


def _mean(image: Image.Image) -> float:
    return float(image.convert("L").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0)))


def test_preview_is_the_pipeline_render(authed, buffered, store):
    dx10 = store.row("SELECT id FROM photos WHERE original_name = 'DX10.jpg'")["id"]
    plain = _image(authed.get(f"/api/preview/{dx10}"))
    assert plain.size == (720, 540)
    rotated = _image(authed.get(f"/api/preview/{dx10}?rotate=90"))
    assert rotated.size == (540, 720)
    brighter = _image(authed.get(f"/api/preview/{dx10}?exposure=1.5"))
    assert _mean(brighter) > _mean(plain) + 20
    straight = _image(authed.get(f"/api/preview/{dx10}?straighten=5&scale=1.5"))
    assert max(straight.size) <= 720 and _diff(straight, plain) > 10  # turned, cropped, zoomed
    small = _image(authed.get(f"/api/preview/{dx10}?size=320"))
    assert small.size == (320, 240)
    res = authed.get(f"/api/preview/{dx10}?exposure=1.5")
    assert res.headers["Cache-Control"] == "no-store" and res.headers["ETag"]
    again = authed.get(f"/api/preview/{dx10}?exposure=1.5", headers={"If-None-Match": res.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("query, message", [
    ("exposure=abc", "exposure must be a number"), ("exposure=9", "exposure must be between"),
    ("exposure=nan", "finite"), ("rotate=45", "rotate must be"), ("rotate=1.5", "rotate must be a number"),
    ("scale=3", "scale must be between"), ("path=/etc/passwd", "unknown preview parameter"),
    ("size=9000", "size must be between"), ("size=big", "size must be a whole number"),
])
def test_preview_rejects_bad_recipes(authed, buffered, query, message):
    res = authed.get(f"/api/preview/{buffered[0]}?{query}")
    assert res.status_code == 400 and message in res.get_json()["error"]


def test_preview_of_unknown_or_broken_photo(authed, buffered, store, config):
    assert authed.get("/api/preview/999").status_code == 404
    photo = store.photo(buffered[0])
    (config.folder("buffer") / photo["buffer_path"]).write_bytes(b"not a jpeg")
    res = authed.get(f"/api/preview/{buffered[0]}?exposure=0.3")
    assert res.status_code == 422 and "cannot render" in res.get_json()["error"]


# -- publish, live feed, unpublish -----------------------------------------------------------------
def test_live_feed_sync_states(authed, buffered, store, config):
    pub_ids = [authed.post("/api/publish", json={"id": i}).get_json()["id"] for i in buffered[:4]]
    assert [p["sync"] for p in authed.get("/api/live").get_json()["photos"]] == ["publishing"] * 4
    publisher = Publisher(config, store)
    while publisher.run_once():
        pass
    jobs = store.rows("SELECT * FROM jobs WHERE kind = 'upload' ORDER BY id")
    by_pub = {j["publication_id"]: j for j in jobs}
    store.set_sync_state(current_key=by_pub[pub_ids[1]]["key"])
    store.conn.execute("UPDATE jobs SET last_error = 'timeout talking to the bucket', attempts = 2 "
                       "WHERE publication_id = ?", (pub_ids[2],))
    store.conn.execute("UPDATE publications SET live_at = '2024-01-01T00:00:00Z' WHERE id = ?", (pub_ids[3],))
    store.conn.execute("UPDATE jobs SET state = 'done' WHERE publication_id = ?", (pub_ids[3],))
    live = {p["id"]: p for p in authed.get("/api/live").get_json()["photos"]}
    assert live[pub_ids[0]]["sync"] == "queued"
    assert live[pub_ids[1]]["sync"] == "uploading"
    assert live[pub_ids[2]]["sync"] == "retrying" and "did not answer in time" in live[pub_ids[2]]["error"]
    assert live[pub_ids[2]]["error_details"] == "timeout talking to the bucket"
    assert live[pub_ids[3]]["sync"] == "live"
    thumb = authed.get(live[pub_ids[3]]["thumb"])
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert "immutable" in thumb.headers["Cache-Control"]

    res = authed.post("/api/unpublish", json={"id": pub_ids[3]})
    assert res.status_code == 200
    assert authed.post("/api/unpublish", json={"id": pub_ids[3]}).status_code == 409
    assert authed.post("/api/unpublish", json={"id": 999}).status_code == 404
    assert pub_ids[3] not in {p["id"] for p in authed.get("/api/live").get_json()["photos"]}
    assert authed.get(f"/published/{pub_ids[3]}/thumb").status_code == 200  # kept in trash/


def test_failed_publication_shows_its_reason_and_can_be_retried(authed, buffered, store, config):
    photo = store.photo(buffered[0])
    (config.folder("buffer") / photo["buffer_path"]).write_bytes(b"garbage")
    pub_id = authed.post("/api/publish", json={"id": buffered[0]}).get_json()["id"]
    Publisher(config, store).run_once()
    row = authed.get("/api/live").get_json()["photos"][0]
    assert row["id"] == pub_id and row["sync"] == "failed"
    assert row["error"] == "The photo is damaged (corrupt or truncated) and cannot be opened."
    assert "not a readable image" in row["error_details"]  # the raw text, behind a details toggle
    assert authed.get("/api/cleanup").get_json()["failed_publications"] == 1
    assert authed.post("/api/retry", json={"id": 999}).status_code == 404
    assert authed.post("/api/retry", json={"id": pub_id}).get_json()["state"] == "queued"
    assert authed.post("/api/retry", json={"id": pub_id}).status_code == 409  # queued, not failed
    Publisher(config, store).run_once()  # fails again: the original is still garbage
    res = authed.post("/api/cleanup", json={"action": "retry_failed"}).get_json()
    assert res["affected"] == 1 and store.publication(pub_id)["state"] == "queued"


# -- status ----------------------------------------------------------------------------------------
def test_status_shows_import_progress_disk_and_queue(authed, store):
    import_id = store.start_import("/media/card")
    store.update_import(import_id, files_total=120, files_done=30, bytes_total=1000, bytes_done=250)
    status = authed.get("/api/status").get_json()
    assert status["card"]["state"] == "importing" and status["card"]["safe_to_remove"] is False
    assert status["card"]["files_done"] == 30 and status["card"]["files_total"] == 120
    assert status["disk"]["free_bytes"] > 0 and status["disk"]["total_bytes"] >= status["disk"]["free_bytes"]
    store.update_import(import_id, state="done", finished_at="2999-01-01T00:00:00Z", imported=30)
    status = authed.get("/api/status").get_json()
    assert status["card"]["state"] == "done" and status["card"]["safe_to_remove"] is True
    assert {"online", "queue", "last_upload_at", "buffer", "new", "uploading"} <= set(status)


# -- settings --------------------------------------------------------------------------------------
def test_event_settings_reach_the_manifest(authed, store, config):
    res = authed.put("/api/settings/event", json={"title": "Anna & Ben ♥", "subtitle": "Lake house",
                                                  "gallery_url": "https://photos.example.com/?event={event}"})
    assert res.status_code == 200, res.get_json()
    data = res.get_json()
    assert data["event"]["title"] == "Anna & Ben ♥" and data["gallery_url_resolved"].endswith("event=wedding")
    assert store.current_event()["subtitle"] == "Lake house"
    local = json.loads((config.folder("web") / "wedding" / "manifest.json").read_text())
    assert local["event"]["title"] == "Anna & Ben ♥"
    assert store.scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'manifest' AND state = 'pending'") == 1


@pytest.mark.parametrize("body, message", [
    ({"title": ""}, "title must not be empty"), ({"title": "x" * 121}, "at most 120"),
    ({"title": "a\nb"}, "single line"), ({"gallery_url": "javascript:alert(1)"}, "http"),
    ({"hero_publication_id": 999}, "published photo"), ({"colour": "red"}, "unknown event setting"),
])
def test_event_settings_validation(authed, body, message):
    res = authed.put("/api/settings/event", json=body)
    assert res.status_code == 400 and message in res.get_json()["error"]


def test_hero_must_be_a_published_photo(authed, buffered, store, config):
    pub_id = authed.post("/api/publish", json={"id": buffered[0]}).get_json()["id"]
    assert authed.put("/api/settings/event", json={"hero_publication_id": pub_id}).status_code == 400
    Publisher(config, store).run_once()
    data = authed.put("/api/settings/event", json={"hero_publication_id": pub_id}).get_json()
    assert data["hero"]["publication_id"] == pub_id
    event_id = store.current_event()["id"]
    assert store.get_setting(f"event_hero.{event_id}") == pub_id
    local = json.loads((config.folder("web") / "wedding" / "manifest.json").read_text())
    assert local["event"]["hero"] == "photos/DSCN0010.jpg"  # what the gallery shows as its cover
    from appliance.publish import manifest

    assert manifest.build(store, event_id, live_only=True)["event"]["hero"] is None  # not in the bucket yet
    assert authed.put("/api/settings/event", json={"hero_publication_id": None}).get_json()["hero"] is None


def test_watermark_settings_versioned(authed, store):
    data = authed.get("/api/settings/watermark").get_json()
    assert data["watermark"]["kind"] == "none" and data["version"] == 0
    res = authed.put("/api/settings/watermark", json={
        "kind": "text", "text": "© Studio", "position": "top-left", "opacity": 0.5, "size": 0.3})
    assert res.status_code == 200 and res.get_json()["version"] == 1
    # Stored as the pipeline's watermark settings, which the publisher reads for every photo.
    assert store.get_setting("watermark") == {"enabled": True, "text": "© Studio", "png": None,
                                              "position": "top-left", "opacity": 0.5, "size": 0.3,
                                              "margin": 0.03}
    assert store.get_setting("watermark_version") == 1
    assert authed.put("/api/settings/watermark", json={"opacity": 0.8}).get_json()["version"] == 2
    assert authed.put("/api/settings/publish", json={"watermark": {"size": 0.2}}).status_code == 200
    off = authed.put("/api/settings/watermark", json={"kind": "none"}).get_json()
    assert off["version"] == 4 and off["watermark"]["kind"] == "none"
    assert store.get_setting("watermark")["text"] == "© Studio"  # kept for switching back on


@pytest.mark.parametrize("body, message", [
    ({"kind": "video"}, "kind must be"), ({"position": "middle"}, "position must be"),
    ({"opacity": 2}, "opacity must be"), ({"size": 0.01}, "size must be"), ({"size": True}, "size must be"),
    ({"kind": "text", "text": ""}, "needs a text"), ({"kind": "image"}, "needs an uploaded PNG"),
    ({"font": "x"}, "unknown watermark setting"), ({"kind": "image", "png": "a" * 64}, "no uploaded PNG"),
])
def test_watermark_validation(authed, store, body, message):
    res = authed.put("/api/settings/watermark", json=body)
    assert res.status_code == 400 and message in res.get_json()["error"]
    assert store.get_setting("watermark_version", 0) == 0  # nothing saved


def _png(size=(200, 80), color=(255, 255, 255, 255)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, color).save(out, "PNG")
    return out.getvalue()


def test_watermark_png_upload_and_preview(authed, buffered, store, config):
    res = authed.put("/api/settings/watermark.png", data={"png": (io.BytesIO(_png()), "logo.png")},
                     content_type="multipart/form-data")
    assert res.status_code == 200, res.get_json()
    data = authed.get("/api/settings/watermark").get_json()
    settings = data["watermark"]
    assert settings["kind"] == "image" and re.fullmatch(r"[0-9a-f]{64}", settings["png"])
    assert data["version"] == 1
    stored = config.folder("state") / "watermarks" / f"{settings['png']}.png"
    assert stored.is_file() and Image.open(stored).mode == "RGBA"
    assert authed.get("/api/settings/watermark/image").mimetype == "image/png"
    # The draft preview composites the mark where the draft says (a white box, bottom-right).
    base = _image(authed.get("/api/settings/watermark/preview?kind=none"))
    marked = _image(authed.get("/api/settings/watermark/preview?position=bottom-right&opacity=1&size=0.3"))
    corner = (marked.width - 60, marked.height - 30)
    assert marked.getpixel(corner) == pytest.approx((255, 255, 255), abs=12)
    assert base.getpixel(corner) != marked.getpixel(corner)
    text = _image(authed.get(
        "/api/settings/watermark/preview?kind=text&text=STUDIO&position=center&opacity=1"))
    middle = (base.width // 2 - 100, base.height // 2 - 40, base.width // 2 + 100, base.height // 2 + 40)
    assert text.size == base.size and _diff(text.crop(middle), base.crop(middle)) > 5
    assert authed.get("/api/settings/watermark/preview?kind=text&text=").status_code == 400
    assert authed.get("/api/settings/watermark/preview?png=../../x").status_code == 400


def test_editor_preview_follows_the_saved_watermark(authed, buffered, store):
    dx10 = store.row("SELECT id FROM photos WHERE original_name = 'DX10.jpg'")["id"]
    before = _image(authed.get(f"/api/preview/{dx10}"))
    authed.put("/api/settings/watermark", json={"kind": "text", "text": "STUDIO", "position": "center",
                                                "opacity": 1, "size": 0.5})
    after = _image(authed.get(f"/api/preview/{dx10}"))  # same URL: the cache knows the settings changed
    centre = (after.width // 2 - 60, after.height // 2 - 40, after.width // 2 + 60, after.height // 2 + 40)
    assert _diff(after.crop(centre), before.crop(centre)) > 10


@pytest.mark.parametrize("payload, message", [
    (b"not an image", "not a readable PNG"), (None, "must be a PNG"),
    (b"\x89PNG\r\n\x1a\n" + b"0" * 50, "PNG"),
])
def test_watermark_upload_rejects_bad_files(authed, payload, message):
    if payload is None:
        out = io.BytesIO()
        Image.new("RGB", (50, 50)).save(out, "JPEG")
        payload = out.getvalue()
    res = authed.put("/api/settings/watermark.png", data={"png": (io.BytesIO(payload), "x.png")},
                     content_type="multipart/form-data")
    assert res.status_code == 400 and message in res.get_json()["error"]
    assert authed.put("/api/settings/watermark.png", data={}).status_code == 400


def test_events_create_and_switch(authed, store):
    res = authed.post("/api/events", json={"slug": "gala-2025", "title": "Winter gala"})
    assert res.status_code == 201
    data = res.get_json()
    gala = next(e for e in data["events"] if e["slug"] == "gala-2025")
    assert data["current_id"] == gala["id"] == store.current_event()["id"]
    assert authed.post("/api/events", json={"slug": "gala-2025", "title": "Again"}).status_code == 409
    assert authed.post("/api/events", json={"slug": "Bad Slug", "title": "x"}).status_code == 400
    assert authed.post("/api/events", json={"slug": "ok", "title": ""}).status_code == 400
    wedding = next(e for e in data["events"] if e["slug"] == "wedding")
    switched = authed.post("/api/events/current", json={"id": wedding["id"]}).get_json()
    assert switched["current_id"] == wedding["id"]
    assert store.current_event()["slug"] == "wedding"
    assert authed.post("/api/events/current", json={"id": 999}).status_code == 404


def test_cleanup_tools(authed, store, config, buffered):
    trash = config.folder("trash") / "wedding" / "photos"
    trash.mkdir(parents=True)
    (trash / "old.jpg").write_bytes(b"x" * 100)
    info = authed.get("/api/cleanup").get_json()
    assert info["trash_files"] == 1 and info["trash_bytes"] == 100
    res = authed.post("/api/cleanup", json={"action": "empty_trash"}).get_json()
    assert res["trash_files"] == 0 and not any(config.folder("trash").iterdir())
    assert config.folder("buffer").is_dir() and any(config.folder("buffer").rglob("*.jpg"))
    authed.post("/api/reject", json={"id": buffered[0]})
    assert authed.post("/api/cleanup", json={"action": "restore_rejected"}).get_json()["affected"] == 1
    assert authed.post("/api/cleanup", json={"action": "rm -rf"}).status_code == 400


def test_all_settings_in_one_call(authed):
    data = authed.get("/api/settings").get_json()
    assert set(data) == {"event", "watermark", "credits", "folders", "events", "cleanup"}


# -- QR and metrics --------------------------------------------------------------------------------
def test_qr_code_of_the_gallery(authed):
    assert authed.get("/qr.svg").status_code == 404  # no URL configured yet
    authed.put("/api/settings/event", json={"gallery_url": "https://photos.example.com/?event={event}"})
    res = authed.get("/qr.svg")
    assert res.status_code == 200 and res.mimetype == "image/svg+xml"
    assert res.data.startswith(b"<svg") and b"<path" in res.data
    import segno

    from appliance.admin.pages import SVG_OPTIONS

    expected = io.BytesIO()
    segno.make("https://photos.example.com/?event=wedding", error="m").save(expected, **SVG_OPTIONS)
    assert res.data == expected.getvalue() and b"viewBox" in res.data
    page = authed.get("/qr").get_data(as_text=True)
    assert "https://photos.example.com/?event=wedding" in page and "Anna &amp; Ben" in page


def _metrics(text: str) -> dict[str, float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            label = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[sample.name + (f"{{{label}}}" if label else "")] = sample.value
    return out


def test_metrics_with_token_or_login(tmp_path, buffered, store):
    path = tmp_path / "appliance.toml"  # the config fixture's file, plus a scrape token
    path.write_text(path.read_text().replace(
        'password = "correct horse"', 'password = "correct horse"\nmetrics_token = "s3cret-token"'))
    config = load(path)
    client = create_app(config).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    res = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert res.status_code == 200 and res.mimetype == "text/plain"
    figures = _metrics(res.get_data(as_text=True))
    assert figures["appliance_photos_imported_total"] == 4
    assert figures["appliance_queue_jobs"] == 0
    assert figures["appliance_disk_free_bytes{folder=buffer}"] > 0
    assert figures["appliance_import_photos_per_second"] > 0  # just imported
    Publisher(config, store).request(buffered[0], {})
    Publisher(config, store).run_once()
    figures = _metrics(client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
                       .get_data(as_text=True))
    assert figures["appliance_photos_published_total"] == 1
    assert figures["appliance_queue_jobs"] == 2  # web photo and thumbnail wait for the bucket
    assert figures["appliance_publications{state=published}"] == 1
    login(client)
    assert client.get("/metrics").status_code == 200
