"""Upload from the phone: POST /api/upload through Flask's test client, into the real store."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from support.buffer import assert_buffer_sound
from support.cards import raw_standin
from support.config import write_config
from support.files import sha256
from support.sessions import login

from appliance.admin import create_app
from appliance.config import Config, load
from appliance.store import Store


@pytest.fixture
def client(config: Config):
    app = create_app(config)
    app.config["TESTING"] = True
    return app.test_client()


def post(client, data: bytes, name: str, token: str | None, **headers):  # noqa: ANN001, ANN003, ANN201
    if token:
        headers["X-CSRFToken"] = token
    # the test client leaves out "Content-Length: 0" (a browser sends it for an empty file)
    return client.post("/api/upload", data=data, content_type="image/jpeg",
                       headers={"X-Filename": quote(name), **headers},
                       environ_overrides={"CONTENT_LENGTH": str(len(data))} if not data else None)


def test_upload_imports_like_a_card(client, config, samples):
    token = login(client)
    photo = samples / "gps" / "DSCN0038.jpg"
    res = post(client, photo.read_bytes(), "IMG 0001 (phone).jpg", token)
    assert res.status_code == 201, res.get_json()
    body = res.get_json()
    assert body["imported"] and not body["duplicate"] and body["sha256"] == sha256(photo)
    store = Store(config.db_path)
    row = store.photo(body["id"])
    assert row["sha256"] == sha256(photo) and row["original_name"] == "IMG_0001_phone.jpg"
    assert row["camera_model"] == "COOLPIX P6000"
    assert_buffer_sound(config, store)
    imp = store.row("SELECT * FROM imports WHERE id = ?", (body["import_id"],))
    assert imp["state"] == "done" and imp["source"].startswith("upload ")
    # the same photo again: recognised by its content
    again = post(client, photo.read_bytes(), "other-name.jpg", token)
    assert again.status_code == 200
    assert again.get_json()["duplicate"] and again.get_json()["id"] == body["id"]
    assert store.scalar("SELECT COUNT(*) FROM photos") == 1
    assert not list((config.folder("state") / "uploads").iterdir())  # staging cleaned up
    store.close()


def test_upload_needs_login_and_csrf(client, samples):
    data = (samples / "gps" / "DSCN0040.jpg").read_bytes()
    assert post(client, data, "a.jpg", None).status_code == 401
    login(client)
    res = post(client, data, "a.jpg", None)
    assert res.status_code == 400 and "CSRF" in res.get_data(as_text=True)


def test_upload_refuses_what_is_not_a_photo(client, config, samples):
    token = login(client)
    assert post(client, b"hello", "", token).status_code == 400
    res = post(client, b"\0\0\0\x18ftypheic", "IMG_1.HEIC", token)
    assert res.status_code == 422 and "HEIC" in res.get_json()["error"]
    res = post(client, b"not a jpeg at all", "fake.jpg", token)
    assert res.status_code == 422 and "not a JPEG" in res.get_json()["error"]
    truncated = (samples / "gps" / "DSCN0042.jpg").read_bytes()[:40_000]
    res = post(client, truncated, "cut.jpg", token)
    assert res.status_code == 422 and "truncated" in res.get_json()["error"]
    store = Store(config.db_path)
    assert store.scalar("SELECT COUNT(*) FROM photos") == 0
    assert_buffer_sound(config, store)
    store.close()


def test_each_upload_answers_with_its_report_category(client, config, samples):
    """The phone's upload report counts each file where a card's report would."""
    token = login(client)
    photo = (samples / "gps" / "DSCN0010.jpg").read_bytes()
    answers = {name: post(client, data, name, token) for name, data in (
        ("IMG_1.JPG", photo), ("IMG_1 copy.JPG", photo), ("IMG_2.JPG", b""),
        ("IMG_3.JPG", photo[:20_000]), ("._IMG_1.JPG", b"\0\5\x16\7"), ("notes.txt", b"x"))}
    got = {name: (res.status_code, res.get_json()["category"]) for name, res in answers.items()}
    assert got == {"IMG_1.JPG": (201, "imported"), "IMG_1 copy.JPG": (200, "duplicates"),
                   "IMG_2.JPG": (422, "zero_byte"), "IMG_3.JPG": (422, "unreadable"),
                   "._IMG_1.JPG": (415, "hidden"), "notes.txt": (415, "not_photo")}
    assert answers["IMG_2.JPG"].get_json()["reason"] == "empty file (0 bytes)"
    # the admin's "Add photos" asks for refusals as answers (a browser logs 4xx/5xx as console errors)
    res = client.post("/api/upload?report=1", data=photo[:20_000], content_type="image/jpeg",
                      headers={"X-Filename": "IMG_4.JPG", "X-CSRFToken": token})
    assert res.status_code == 200 and res.get_json() == {
        "ok": False, "error": "IMG_4.JPG: corrupt or truncated JPEG", "category": "unreadable",
        "reason": "corrupt or truncated JPEG", "status": 422}
    # uploads are reported on the phone, not in the card banner
    assert client.get("/api/status").get_json()["card"]["state"] == "idle"


def test_upload_size_limit(tmp_path, moto_url, bucket, samples):
    path = write_config(tmp_path, moto_url, bucket)
    path.write_text(path.read_text().replace("poll_seconds = 0.2\n",
                                             "poll_seconds = 0.2\nupload_max_mb = 1\n", 1))
    config = load(path)
    app = create_app(config)
    client = app.test_client()
    token = login(client)
    big = (samples / "gps" / "DSCN0010.jpg").read_bytes() + b"\0" * (1024 * 1024)
    res = post(client, big, "big.jpg", token)
    assert res.status_code == 413
    assert Store(config.db_path).scalar("SELECT COUNT(*) FROM photos") == 0


def test_upload_raw_goes_to_the_archive(client, config, tmp_path):
    token = login(client)
    raw = raw_standin(tmp_path / "x.CR3", "phone-raw")
    res = post(client, raw.read_bytes(), "IMG_0009.CR3", token)
    assert res.status_code == 201 and res.get_json()["archived"]
    store = Store(config.db_path)
    row = store.row("SELECT * FROM raw_files")
    assert row["sha256"] == sha256(raw) and row["original_name"] == "IMG_0009.CR3"
    assert (config.folder("archive") / row["archive_path"]).is_file()
    store.close()


def test_upload_of_an_app_wide_limit_sized_file(client, config, samples):
    """Bigger than the admin's global MAX_CONTENT_LENGTH is fine when under upload_max_mb."""
    token = login(client)
    app_limit = client.application.config["MAX_CONTENT_LENGTH"]
    big = (samples / "gps" / "DSCN0012.jpg").read_bytes() + b"\xff" * (app_limit + 10)
    res = post(client, big, "huge.jpg", token)
    assert res.status_code == 201, res.get_json()
    store = Store(config.db_path)
    assert Path(config.folder("buffer") / store.photo(res.get_json()["id"])["buffer_path"]
                ).stat().st_size == len(big)
    store.close()


def test_ingest_status_for_the_admin(client, config, samples):
    assert client.get("/api/ingest").status_code == 401
    token = login(client)
    post(client, (samples / "gps" / "DSCN0021.jpg").read_bytes(), "a.jpg", token)
    data = client.get("/api/ingest").get_json()
    assert data["importing"] is False and data["imports"] == []
    last = data["recent"][0]
    assert last["state"] == "done" and last["percent"] == 100.0 and last["report"]["imported"] == 1
    assert {"mb_per_s", "eta_s", "files_done", "bytes_total"} <= set(last)


@pytest.mark.parametrize("name, derived", [("IMG_0010.HEIC", "heif"), ("P1000001.RW2", "raw-preview")])
def test_an_uploaded_heic_or_raw_only_frame_answers_with_its_derived_photo(client, config, name, derived):
    from support.originals import data

    token = login(client)
    source = data("pillow-heif/empty_icc.heic") if derived == "heif" else data("synthetic/P1000001.RW2")
    res = post(client, source.read_bytes(), name, token)
    assert res.status_code == 201, res.get_json()
    store = Store(config.db_path)
    photo = store.photo(res.get_json()["id"])
    assert photo["derived_from"] == derived
    assert store.raw_by_sha(sha256(source))["photo_id"] == photo["id"]
    store.close()
