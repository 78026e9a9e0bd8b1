"""End to end: card folder → importer → admin publish → publisher → sync → bucket → gallery.

Every service runs as a real subprocess with a temporary config, against a moto S3 server over
HTTP; the gallery is opened in Debian's Chromium through Playwright.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from support.browser import ARTIFACTS, CHROMIUM, chromium
from support.config import write_config
from support.live_channel import LiveChannel
from support.polling import wait_for
from support.services import free_port
from support.sessions import PASSWORD, csrf_token, http_login

# How these tests wait (support.polling.wait_for): a service still starting (refusing connections,
# answering an error or half a page) means "not yet".
LIVE_SECRET = "e2e-live-secret-0123456789abcdef"
STARTING = {"every": 0.2, "ignoring": (requests.RequestException, ClientError, KeyError, ValueError,
                                       IndexError)}


@pytest.fixture
def services(tmp_path: Path, moto_url: str, bucket: str) -> Iterator[dict[str, Any]]:
    with running_services(tmp_path, moto_url, bucket) as running:
        yield running


@pytest.fixture
def push_services(tmp_path: Path, moto_url: str, bucket: str) -> Iterator[dict[str, Any]]:
    """The services with the gallery's live channel (the Durable Object in workerd) configured."""
    with LiveChannel(LIVE_SECRET) as channel:
        live = f'[live]\nurl = "{channel.url}"\nsecret = "{LIVE_SECRET}"\n'
        with running_services(tmp_path, moto_url, bucket, live) as running:
            yield {**running, "channel": channel}


@contextmanager
def running_services(tmp_path: Path, moto_url: str, bucket: str, extra: str = "") -> Iterator[dict[str, Any]]:
    admin_port, gallery_port = free_port(), free_port()
    config = write_config(tmp_path, moto_url, bucket, extra)
    text = config.read_text().replace('password = "correct horse"',
                                      f'password = "correct horse"\nbind = "127.0.0.1:{admin_port}"')
    config.write_text(text)
    env = {**os.environ, "APPLIANCE_CONFIG": str(config), "PYTHONUNBUFFERED": "1"}
    base = [sys.executable, "-m", "appliance"]
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = {}
    for name, extra in (("importer", []), ("publisher", []), ("sync", []), ("gpio", []),
                        ("admin", []), ("gallery", ["--bind", f"127.0.0.1:{gallery_port}"])):
        out = open(logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        procs[name] = subprocess.Popen([*base, name, *extra], env=env, stdout=out, stderr=out)
    try:
        yield {"admin": f"http://127.0.0.1:{admin_port}", "gallery": f"http://127.0.0.1:{gallery_port}",
               "card": tmp_path / "card", "procs": procs, "logs": logs}
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for name, proc in procs.items():
            if proc.returncode not in (0, -15):
                print(f"--- {name} exited {proc.returncode}:\n{(logs / f'{name}.log').read_text()}")


def admin_session(base: str) -> tuple[requests.Session, str]:
    """A session logged in to the admin once it answers, and its CSRF token."""
    wait_for(lambda: requests.get(f"{base}/health", timeout=2).ok, 20, "admin /health", **STARTING)
    status, session = http_login(base, PASSWORD)
    assert status == 302
    return session, csrf_token(session.get(f"{base}/", timeout=5).text)


def publish(session: requests.Session, admin: str, token: str, photo: dict[str, Any]) -> str:
    """Publish a buffer photo through the admin's HTTP API; returns its publication's name."""
    res = session.post(f"{admin}/api/publish", json={"id": photo["id"], "recipe": {}},
                       headers={"X-CSRFToken": token}, timeout=5)
    assert res.status_code == 202, res.text
    return res.json()["name"]


@pytest.mark.slow
@pytest.mark.browser
def test_card_to_gallery(services, samples, s3, bucket):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    admin = services["admin"]
    session, token = admin_session(admin)

    # A real camera JPEG lands on the "card".
    dcim = services["card"] / "DCIM" / "100NIKON"
    dcim.mkdir(parents=True)
    shutil.copy(samples / "gps" / "DSCN0010.jpg", dcim / "DSCN0010.JPG")
    photos = wait_for(lambda: session.get(f"{admin}/api/buffer", timeout=5).json()["photos"],
                      20, "the photo in the buffer", **STARTING)
    assert photos[0]["name"] == "DSCN0010.JPG"

    # Publish it through the admin's HTTP API.
    name = publish(session, admin, token, photos[0])

    # Photo object and manifest entry appear in the bucket.
    def in_bucket() -> dict | None:
        manifest = json.loads(s3.get_object(Bucket=bucket, Key="events/wedding/manifest.json")
                              ["Body"].read())
        return manifest if any(p["name"] == name for p in manifest["photos"]) else None

    manifest = wait_for(in_bucket, 30, "the manifest entry in the bucket", **STARTING)
    entry = manifest["photos"][0]
    obj = s3.get_object(Bucket=bucket, Key=f"events/wedding/{entry['src']}")
    assert obj["ContentType"] == "image/jpeg" and obj["ContentLength"] > 10_000
    s3.head_object(Bucket=bucket, Key=f"events/wedding/{entry['thumb']}")
    live = session.get(f"{admin}/api/live", timeout=5).json()["photos"]
    wait_for(lambda: session.get(f"{admin}/api/live", timeout=5).json()["photos"][0]["sync"]
             == "live", 10, "the live state in the admin", **STARTING)
    assert live[0]["name"] == name

    # The gallery page shows it (served like Cloudflare Pages, reading the bucket).
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = chromium(p)
        page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                is_mobile=True, has_touch=True)
        page.goto(f"{services['gallery']}/?event=wedding")
        tile = page.locator(f'[data-name="{name}"] img').first
        tile.wait_for(state="visible", timeout=15_000)
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=tile.element_handle(),
            timeout=15_000,
        )
        page.screenshot(path=str(ARTIFACTS / "e2e-gallery-phone.png"))
        browser.close()


@pytest.mark.slow
@pytest.mark.browser
def test_a_publish_reaches_an_open_gallery_by_push(push_services, samples, s3, bucket):
    """Appliance, local S3 and the live channel together: a photo published while a guest's
    gallery is open appears there by push, not by its (10 s) poll."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    admin = push_services["admin"]
    session, token = admin_session(admin)
    dcim = push_services["card"] / "DCIM" / "100NIKON"
    dcim.mkdir(parents=True)
    for name in ("DSCN0010.jpg", "DSCN0012.jpg"):
        shutil.copy(samples / "gps" / name, dcim / name.upper())
    photos = wait_for(lambda: (lambda p: p if len(p) == 2 else None)(
        session.get(f"{admin}/api/buffer", timeout=5).json()["photos"]), 20, "two photos", **STARTING)

    first = publish(session, admin, token, photos[0])
    wait_for(lambda: push_services["channel"].announced("wedding")["version"], 30,
             "the first notify at the channel", **STARTING)
    with sync_playwright() as p:
        browser = chromium(p)
        page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        page.goto(f"{push_services['gallery']}/?event=wedding")
        page.locator(f'[data-name="{first}"] img').first.wait_for(state="visible", timeout=15_000)
        page.wait_for_function("() => window.gallery.state.pushing === true", timeout=10_000)
        polls = page.evaluate("window.gallery.stats.polls")
        second = publish(session, admin, token, photos[1])
        page.locator(f'[data-name="{second}"] img').first.wait_for(state="visible", timeout=8_000)
        stats = page.evaluate("window.gallery.stats")
        # Told by the channel: far sooner than the 10 s poll, and with at most the polls it caused.
        assert stats["pushMessages"] >= 1
        assert stats["polls"] - polls <= stats["pushMessages"] + 1
        page.screenshot(path=str(ARTIFACTS / "e2e-gallery-push-phone.png"))
        browser.close()
    # The notify was sent only after the manifest with the photo was in the bucket.
    manifest = json.loads(s3.get_object(Bucket=bucket, Key="events/wedding/manifest.json")["Body"].read())
    assert {first, second} <= {p["name"] for p in manifest["photos"]}
