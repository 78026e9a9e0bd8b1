"""End to end: card folder → importer → admin publish → publisher → sync → bucket → gallery.

Every service runs as a real subprocess with a temporary config, against a moto S3 server over
HTTP; the gallery is opened in Debian's Chromium through Playwright.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from support.config import write_config

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except (requests.RequestException, ClientError, KeyError, ValueError, IndexError):
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def services(tmp_path: Path, moto_url: str, bucket: str) -> Iterator[dict[str, Any]]:
    admin_port, gallery_port = free_port(), free_port()
    config = write_config(tmp_path, moto_url, bucket)
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
    session = requests.Session()
    wait_for(lambda: session.get(f"{base}/health", timeout=2).ok, 20, "admin /health")
    page = session.get(f"{base}/login", timeout=5).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    res = session.post(f"{base}/login", data={"password": "correct horse", "csrf_token": token},
                       timeout=5)
    assert res.ok and "/login" not in res.url
    page = session.get(f"{base}/", timeout=5).text
    return session, re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


@pytest.mark.slow
@pytest.mark.browser
def test_card_to_gallery(services, samples, s3, bucket):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    admin = services["admin"]
    session, token = admin_session(admin)

    # A real camera JPEG lands on the "card".
    dcim = services["card"] / "DCIM" / "100NIKON"
    dcim.mkdir(parents=True)
    shutil.copy(samples / "gps" / "DSCN0010.jpg", dcim / "DSCN0010.JPG")
    photos = wait_for(lambda: session.get(f"{admin}/api/buffer", timeout=5).json()["photos"],
                      20, "the photo in the buffer")
    assert photos[0]["name"] == "DSCN0010.JPG"

    # Publish it through the admin's HTTP API.
    res = session.post(f"{admin}/api/publish", json={"id": photos[0]["id"], "recipe": {}},
                       headers={"X-CSRFToken": token}, timeout=5)
    assert res.status_code == 202, res.text
    name = res.json()["name"]

    # Photo object and manifest entry appear in the bucket.
    def in_bucket() -> dict | None:
        manifest = json.loads(s3.get_object(Bucket=bucket, Key="events/wedding/manifest.json")
                              ["Body"].read())
        return manifest if any(p["name"] == name for p in manifest["photos"]) else None

    manifest = wait_for(in_bucket, 30, "the manifest entry in the bucket")
    entry = manifest["photos"][0]
    obj = s3.get_object(Bucket=bucket, Key=f"events/wedding/{entry['src']}")
    assert obj["ContentType"] == "image/jpeg" and obj["ContentLength"] > 10_000
    s3.head_object(Bucket=bucket, Key=f"events/wedding/{entry['thumb']}")
    live = session.get(f"{admin}/api/live", timeout=5).json()["photos"]
    wait_for(lambda: session.get(f"{admin}/api/live", timeout=5).json()["photos"][0]["sync"]
             == "live", 10, "the live state in the admin")
    assert live[0]["name"] == name

    # The gallery page shows it (served like Cloudflare Pages, reading the bucket).
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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
