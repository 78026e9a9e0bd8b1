"""The admin's cameras: FTP accounts added, changed and removed (hashed passwords, CSRF, login),
and what the photographer sees of a real FTP session (connected, frames, discarded partials)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image
from support.browser import ARTIFACTS, CHROMIUM, chromium
from support.ftp import account, connect, serving
from support.images import save_jpeg
from support.polling import wait_for
from support.sessions import PASSWORD, login
from support.wsgi import serving_app
from werkzeug.security import check_password_hash

from appliance.admin import create_app
from appliance.config import Config
from appliance.store import Store

CAMERA = {"user": "camera-a", "password": "long secret 1", "label": "Canon R5 · Jane"}


@pytest.fixture
def client(config: Config, store: Store):
    app = create_app(config)
    app.config["TESTING"] = True
    client = app.test_client()
    client.environ_base["HTTP_X_CSRFTOKEN"] = login(client)
    return client


def test_accounts_are_added_changed_and_removed(client, store):
    answer = client.post("/api/cameras", json=CAMERA)
    assert answer.status_code == 201, answer.get_json()
    listed = answer.get_json()["accounts"]
    assert [a["user"] for a in listed] == ["camera-a"] and "password_hash" not in listed[0]
    row = store.ftp_account("camera-a")
    assert check_password_hash(row["password_hash"], "long secret 1") and "long secret" not in str(listed)
    assert client.post("/api/cameras", json=CAMERA).status_code == 409
    event = store.current_event()
    changed = client.put("/api/cameras/camera-a",
                         json={"password": "another secret", "event_id": event["id"]})
    assert changed.status_code == 200 and changed.get_json()["accounts"][0]["event"] == event["slug"]
    assert check_password_hash(store.ftp_account("camera-a")["password_hash"], "another secret")
    assert client.delete("/api/cameras/camera-a").get_json()["accounts"] == []
    assert client.delete("/api/cameras/camera-a").status_code == 404


@pytest.mark.parametrize("bad, message", [
    ({**CAMERA, "password": "short"}, "at least 8"),
    ({**CAMERA, "user": "../etc"}, "user must be"),
    ({**CAMERA, "event_id": 999}, "no event"),
    ({**CAMERA, "admin": True}, "unknown camera field"),
])
def test_bad_accounts_are_refused_with_the_reason(client, store, bad, message):
    answer = client.post("/api/cameras", json=bad)
    assert answer.status_code in (400, 404) and message in answer.get_json()["error"]
    assert store.ftp_accounts() == []


def test_cameras_need_login_and_csrf(config, store):
    app = create_app(config)
    anonymous = app.test_client()
    assert anonymous.get("/api/cameras").status_code == 401
    assert anonymous.get("/api/cameras/certificate.pem").status_code == 401
    login(anonymous)  # logged in, but the request carries no CSRF token
    answer = anonymous.post("/api/cameras", json=CAMERA)
    assert answer.status_code == 400 and "CSRF" in answer.get_json()["error"]
    assert store.ftp_accounts() == []


@pytest.fixture
def admin(config: Config) -> Iterator[str]:
    with serving_app(create_app(config)) as base:
        yield base


@pytest.mark.browser
def test_a_phone_sees_the_camera_connected_with_its_frames(config, store, admin, tmp_path):
    from playwright.sync_api import sync_playwright
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    frame = save_jpeg(tmp_path / "f.jpg", Image.effect_noise((320, 240), 40).convert("RGB"))
    with sync_playwright() as p, serving(config) as ingest:
        browser = chromium(p)
        page = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                   is_mobile=True, has_touch=True, bypass_csp=True).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{admin}/login")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{admin}/#settings")
        form = page.locator("#form-camera")
        form.scroll_into_view_if_needed()
        for name in ("user", "password", "label"):
            form.locator(f"[name={name}]").fill(CAMERA[name])
        form.locator("button[type=submit]").tap()
        page.wait_for_selector("#cameras-list [data-user=camera-a]")
        # the camera connects, sends a frame, and a second one is cut off (ABOR)
        ftp = connect(ingest, CAMERA["user"], CAMERA["password"])
        ftp.storbinary("STOR IMG_0001.JPG", io.BytesIO(frame.read_bytes()))
        data = ftp.transfercmd("STOR IMG_0002.JPG")
        data.sendall(frame.read_bytes()[:2000])
        assert ftp.abort().startswith("426")
        data.close()
        ftp.getresp()  # 226 after the 426
        wait_for(lambda: account(store, "camera-a")["frames_received"] == 1
                 and account(store, "camera-a")["partials_discarded"] == 1, 20, "frame and partial")
        page.evaluate("location.hash = '#buffer'")
        page.evaluate("location.hash = '#settings'")  # reloads the settings
        card = page.locator("#cameras-list [data-user=camera-a]")
        page.wait_for_function("document.querySelector('#cameras-list').textContent.includes('1 frame')")
        text = card.inner_text()
        assert "Connected from 127.0.0.1" in text and "1 partial upload discarded" in text
        assert "Certificate SHA-256" in page.inner_text("#cameras-server")
        pem = page.request.get(f"{admin}/api/cameras/certificate.pem")  # (the session's cookies)
        assert pem.ok and pem.body() == (ingest.tls_folder / "cert.pem").read_bytes()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#cameras-card").screenshot(path=str(ARTIFACTS / "admin-iphone-12-cameras.png"))
        page.locator("#status").tap()
        page.wait_for_function("document.querySelector('#st-cameras').textContent.includes('connected')")
        assert "1 partial upload discarded from Canon R5 · Jane" in page.inner_text("#st-cameras")
        page.screenshot(path=str(ARTIFACTS / "admin-iphone-13-status-cameras.png"))
        ftp.close()
        browser.close()
        assert not errors, errors


def test_the_card_banner_names_what_was_not_imported_and_ignores_camera_frames(client, config, store,
                                                                               tmp_path, samples):
    import shutil

    from support.originals import data

    from appliance.ingest.importer import Importer

    card = tmp_path / "card" / "DCIM" / "100NIKON"
    card.mkdir(parents=True)
    shutil.copy(data("exiftool/Nikon.nef"), card / "DSC_0001.NEF")  # a RAW without a preview
    (card / "empty.jpg").write_bytes(b"")
    importer = Importer(config, store)
    importer.import_paths(((p, None) for p in sorted(card.iterdir())), source="card NIKON (/dev/sda1)")
    status = client.get("/api/status").get_json()["card"]
    report = status["report"]
    assert status["state"] == "done" and report["counts"] == {"archived": 1, "zero_byte": 1}, status
    assert "preview" in report["files"]["archived"][0]["reason"]
    assert report["files"]["zero_byte"] == [{"name": "DCIM/100NIKON/empty.jpg",
                                             "reason": "empty file (0 bytes)"}]
    assert status["safe_to_remove"] is False
    assert report["verdict"] == "1 file is empty (0 bytes) — keep the card"
    frame = samples / "gps" / "DSCN0010.jpg"
    importer.import_paths([(frame, None)], source="ftp camera-a")  # a camera's frame is no card
    assert client.get("/api/status").get_json()["card"] == status


def test_the_status_lists_a_tethered_camera_as_the_tether_service_records_it(client, store):
    assert client.get("/api/status").get_json()["cameras"]["usb"] == []
    store.meet_tether_camera("Canon EOS R5 0123")
    store.tether_session("Canon EOS R5 0123", True)
    store.count_tether_frame("Canon EOS R5 0123")
    [usb] = client.get("/api/status").get_json()["cameras"]["usb"]
    assert usb["camera"] == "Canon EOS R5 0123" and usb["connected"] and usb["frames"] == 1
    store.end_tether_sessions()  # the service stopped
    assert not client.get("/api/status").get_json()["cameras"]["usb"][0]["connected"]
