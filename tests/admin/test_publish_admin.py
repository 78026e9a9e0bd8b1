"""The admin's publish preview and run-time publish settings through Flask's test client."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from support.images import exif_bytes, marked_pattern, mean_diff, save_jpeg

from appliance import config as config_mod
from appliance.admin import create_app
from appliance.imaging import pipeline
from appliance.imaging.recipe import Recipe
from appliance.ingest.importer import Importer
from appliance.publish.worker import Publisher
from appliance.store import Store


@pytest.fixture
def cfg(tmp_path: Path):
    return config_mod.parse(f'[paths]\ndata_root = "{tmp_path / "data"}"\n'
                            '[admin]\npassword = "correct horse"\n[event]\nslug = "party"\n')


@pytest.fixture
def photo_id(cfg, tmp_path: Path) -> int:
    cfg.ensure_folders()
    store = Store(cfg.db_path)
    store.ensure_event("party", "Party")
    save_jpeg(tmp_path / "card" / "IMG_0001.JPG", marked_pattern((1800, 1200)).transpose(
        Image.Transpose.ROTATE_90), exif=exif_bytes(t0112=6))
    Importer(cfg, store).import_tree(tmp_path / "card")
    photo = store.rows("SELECT id FROM photos")[0]["id"]
    store.close()
    return photo


@pytest.fixture
def client(cfg):
    app = create_app(cfg)
    app.config["TESTING"] = True
    return app.test_client()


def login(client) -> str:  # noqa: ANN001
    def token(path: str) -> str:
        page = client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    res = client.post("/login", data={"password": "correct horse", "csrf_token": token("/login")})
    assert res.status_code == 302
    return token("/")


def test_preview_needs_login_and_renders_the_recipe(client, photo_id):
    assert client.get(f"/api/preview/{photo_id}").status_code == 401
    login(client)
    res = client.get(f"/api/preview/{photo_id}?rotate=90&exposure=0.5&size=600")
    assert res.status_code == 200 and res.mimetype == "image/jpeg"
    assert res.headers["Cache-Control"] == "no-store"
    with Image.open(io.BytesIO(res.data)) as image:
        assert image.size == (400, 600)  # upright 1800×1200, turned clockwise, 600 px long edge
        r, g, b = image.convert("RGB").getpixel((380, 20))  # the red corner is now top-right
        assert r > 150 and g < 100 and b < 100
    for query, message in (("rotate=45", "rotate must be"), ("exposure=bright", "must be a number"),
                           ("size=9000", "size must be between")):
        res = client.get(f"/api/preview/{photo_id}?{query}")
        assert res.status_code == 400 and message in res.get_json()["error"]
    assert client.get("/api/preview/999").status_code == 404


def test_settings_change_at_run_time_and_are_validated(client, cfg, photo_id):
    token = login(client)
    assert client.get("/api/settings/publish").get_json()["watermark"]["enabled"] is False
    body = {"watermark": {"enabled": True, "text": "© Jane", "position": "top-left"},
            "credits": {"artist": "Jane Doe", "copyright": "© Jane Doe"}}
    assert client.put("/api/settings/publish", json=body).status_code == 400  # no CSRF token
    res = client.put("/api/settings/publish", json=body, headers={"X-CSRFToken": token})
    assert res.status_code == 200
    saved = res.get_json()
    assert saved["watermark"]["position"] == "top-left" and saved["credits"]["artist"] == "Jane Doe"
    bad = {"watermark": {"opacity": 3}, "credits": {"artist": "Someone else"}}
    res = client.put("/api/settings/publish", json=bad, headers={"X-CSRFToken": token})
    assert res.status_code == 400 and "opacity" in res.get_json()["error"]
    assert client.get("/api/settings/publish").get_json() == saved  # nothing half-saved

    # A running publisher picks the settings up on its next photo.
    store = Store(cfg.db_path)
    publisher = Publisher(cfg, store)
    pub = store.publication(publisher.request(photo_id, {}))
    publisher.process(store.claim_publication(pub["id"]))
    out = cfg.folder("web") / "party" / "photos" / f"{pub['name']}.jpg"
    clean = pipeline.render(cfg.folder("buffer") / store.photo(photo_id)["buffer_path"],
                            Recipe())
    with Image.open(out) as image:
        assert image.getexif()[0x013B] == "Jane Doe"
        published = image.convert("RGB")
    assert published.size == clean.size == (1800, 1200)
    top_left, bottom_right = (0, 0, 600, 200), (1200, 1000, 1800, 1200)
    assert mean_diff(published.crop(top_left), clean.crop(top_left)) > 5  # the mark is here
    assert mean_diff(published.crop(bottom_right), clean.crop(bottom_right)) < 2


def test_watermark_png_upload(client, cfg, photo_id):
    token = login(client)
    logo = io.BytesIO()
    Image.new("RGBA", (64, 32), (0, 255, 0, 255)).save(logo, "PNG")
    res = client.put("/api/settings/watermark.png", data=logo.getvalue(),
                     headers={"X-CSRFToken": token, "Content-Type": "image/png"})
    assert res.status_code == 200
    mark = res.get_json()["watermark"]
    assert mark["enabled"] and (cfg.folder("state") / "watermarks" / f"{mark['png']}.png").is_file()
    res = client.put("/api/settings/publish", json={"watermark": {"position": "center", "size": 0.5,
                                                                  "opacity": 1.0}},
                     headers={"X-CSRFToken": token})
    assert res.status_code == 200
    preview = Image.open(io.BytesIO(client.get(f"/api/preview/{photo_id}?size=1200").data))
    r, g, b = preview.convert("RGB").getpixel((600, 400))
    assert g > 200 and r < 60 and b < 60  # the green logo in the centre
    res = client.put("/api/settings/watermark.png", data=b"GIF89a not a png",
                     headers={"X-CSRFToken": token, "Content-Type": "image/png"})
    assert res.status_code == 400 and "PNG" in res.get_json()["error"]
