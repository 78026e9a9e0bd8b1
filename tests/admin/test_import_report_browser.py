"""The honest import report on a phone (390 x 844, touch), in Debian's Chromium through Playwright.

"Add photos" opens the file chooser; real camera JPEGs, a duplicate, a zero-byte file, a truncated
and a corrupt JPEG, a macOS hidden file and a text file are uploaded to the real admin (a live
server over a real store), each with its progress; the upload report counts every one. The Wi-Fi
drops (the request fails in the browser's network stack): a file is sent again and arrives, another
fails in plain words. Then a card with the same troubles is imported by the real importer: the banner
says to keep the card and why, each category opens to its files. The bucket refusing an upload shows
in plain words with the raw text behind "Details". Screenshots: tests/artifacts/admin-iphone-15-*.png.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from support.report_cards import bad_card
from support.samples import sample
from test_admin_browser import PHONES, login, photos, playwright_browser, server, shot  # noqa: F401

from appliance.config import Config
from appliance.ingest.importer import Importer
from appliance.publish.worker import Publisher
from appliance.store import Store
from appliance.sync.syncer import Syncer

pytestmark = pytest.mark.browser

DROPPED = "net::ERR_INTERNET_DISCONNECTED"


def phone_files(folder: Path) -> dict[str, str]:
    """The files chosen on the phone -> the category each must end in."""
    folder.mkdir()
    shutil.copy(sample("gps/DSCN0038.jpg"), folder / "IMG_1001.JPG")
    shutil.copy(sample("gps/DSCN0040.jpg"), folder / "IMG_1002.JPG")
    shutil.copy(sample("gps/DSCN0010.jpg"), folder / "IMG_0010 copy.JPG")  # already in the buffer
    (folder / "IMG_1003.JPG").write_bytes(b"")
    jpeg = sample("gps/DSCN0042.jpg").read_bytes()
    (folder / "IMG_1004.JPG").write_bytes(jpeg[: len(jpeg) // 3])
    (folder / "IMG_1005.JPG").write_bytes(jpeg[:3] + bytes(range(256)) * 64)
    (folder / "._IMG_1001.JPG").write_bytes(b"\x00\x05\x16\x07" + b"\x00" * 4000)
    (folder / "notes.txt").write_text("shot list\n")
    return {"IMG_1001.JPG": "imported", "IMG_1002.JPG": "imported", "IMG_0010 copy.JPG": "duplicates",
            "IMG_1003.JPG": "zero_byte", "IMG_1004.JPG": "unreadable", "IMG_1005.JPG": "unreadable",
            "._IMG_1001.JPG": "hidden", "notes.txt": "not_photo"}


def open_every_category(page: Any, report: str) -> dict[str, list[str]]:
    """Tap each count open; returns category -> the file names listed under it."""
    listed = {}
    for cat in page.locator(f"{report} details.ir-cat").all():
        cat.locator("summary").tap()
        assert cat.get_attribute("open") is not None
        listed[cat.get_attribute("data-category")] = cat.locator(".ir-name").all_inner_texts()
    return listed


def touch_targets_ok(page: Any, selector: str) -> None:
    for box in page.eval_on_selector_all(selector, "els => els.filter(e => e.offsetParent)"
                                         ".map(e => [e.textContent, e.getBoundingClientRect().height,"
                                         " e.getBoundingClientRect().width])"):
        assert box[1] >= 44 and box[2] >= 44, f"touch target too small: {box}"


def test_upload_and_card_import_reports(playwright_browser, server, config: Config, photos,  # noqa: F811
                                        tmp_path: Path, moto_url: str) -> None:
    context = playwright_browser.new_context(**PHONES["iphone"], bypass_csp=True)
    page = context.new_page()
    console: list[Any] = []
    errors: list[str] = []
    page.on("console", lambda m: console.append(m) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, server)

    # -- Add photos: the file chooser, per-file progress, the report -------------------------------
    expected = phone_files(tmp_path / "phone")
    with page.expect_file_chooser() as chooser:
        page.locator("#add-photos").tap()
    assert chooser.value.is_multiple()
    chooser.value.set_files([str(tmp_path / "phone" / name) for name in expected])
    page.wait_for_selector("#upload-panel:not([hidden])")
    page.wait_for_selector("#upload-panel[data-state=done]", timeout=60_000)
    rows = page.eval_on_selector_all("#upload-list .up-file", "els => els.map(e => [e.dataset.name, "
                                     "e.dataset.state, e.querySelector('progress').value, "
                                     "e.dataset.sent || ''])")
    assert {name: state for name, state, _, _ in rows} == expected
    assert all(value == 100 for _, _, value, _ in rows), rows  # every bar finished
    # the bars followed the browser's upload progress events, to the file's last byte
    # (hidden and non-photo files are refused by name, their bodies sent all the same)
    sizes = {name: (tmp_path / "phone" / name).stat().st_size for name in expected}
    assert {name: int(sent) for name, _, _, sent in rows if sizes[name]} == {
        name: size for name, size in sizes.items() if size}, rows
    line = page.inner_text("#upload-report .ir-line")
    assert line == ("2 imported · 1 duplicate · 2 unreadable · 1 zero-byte · 1 hidden file ignored · "
                    "1 not a photo (not added)")
    assert "⚠ Some files were not added" in page.inner_text("#upload-report .ir-verdict")
    assert page.inner_text("#upload-report .ir-why") == (
        "3 of 8 files were not added — they are only on this device")
    shot(page, "iphone-15-upload-report")
    listed = open_every_category(page, "#upload-report")
    assert listed == {cat: [n for n, c in expected.items() if c == cat] for cat in
                      ("imported", "duplicates", "unreadable", "zero_byte", "hidden", "not_photo")}
    assert "corrupt or truncated JPEG" in page.inner_text("#upload-report [data-category=unreadable]")
    assert "empty file (0 bytes)" in page.inner_text("#upload-report [data-category=zero_byte]")
    touch_targets_ok(page, "#upload-report summary, #upload-close, #add-photos")
    store = Store(config.db_path)
    names = {r["original_name"] for r in store.rows("SELECT original_name FROM photos")}
    store.close()
    assert {"IMG_1001.JPG", "IMG_1002.JPG"} <= names and "IMG_1004.JPG" not in names
    page.locator("#upload-panel").evaluate("p => p.scrollTop = 0")
    shot(page, "iphone-15-upload-report-open")
    page.locator("#upload-report [data-category=imported] summary").tap()  # fold a long list
    page.locator("#upload-panel").evaluate("p => p.scrollTop = 0")

    # -- the Wi-Fi drops: one file gets through on its third try, one never does -------------------
    tries: dict[str, int] = {}

    def wifi(route: Any) -> None:
        name = unquote(route.request.headers.get("x-filename", ""))
        tries[name] = tries.get(name, 0) + 1
        if name == "IMG_2002.JPG" or (name == "IMG_2001.JPG" and tries[name] <= 2):
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/api/upload?report=1", wifi)
    (tmp_path / "wifi").mkdir()
    shutil.copy(sample("orientation/portrait_5.jpg"), tmp_path / "wifi" / "IMG_2001.JPG")
    shutil.copy(sample("orientation/portrait_6.jpg"), tmp_path / "wifi" / "IMG_2002.JPG")
    page.locator("#upload-close").tap()
    with page.expect_file_chooser() as chooser:
        page.locator("#add-photos").tap()
    chooser.value.set_files([str(tmp_path / "wifi" / n) for n in ("IMG_2001.JPG", "IMG_2002.JPG")])
    page.wait_for_selector("#upload-list .up-file[data-name='IMG_2002.JPG'] "
                           ".up-status:has-text('Connection lost')")
    shot(page, "iphone-15-upload-retrying")
    page.wait_for_selector("#upload-panel[data-state=done]", timeout=30_000)
    assert tries == {"IMG_2001.JPG": 3, "IMG_2002.JPG": 4}
    states = dict(page.eval_on_selector_all("#upload-list .up-file", "els => els.map(e => [e.dataset.name, "
                                            "e.dataset.state])"))
    assert states == {"IMG_2001.JPG": "imported", "IMG_2002.JPG": "failed"}
    failed = page.inner_text("#upload-list .up-file[data-name='IMG_2002.JPG'] .up-status")
    assert failed.startswith("The connection to the appliance dropped and did not come back after 4 tries.")
    assert "still on this device" in failed and "ERR_" not in failed
    assert page.locator("#upload-retry").is_visible()
    shot(page, "iphone-15-upload-wifi-failed")
    page.unroute("**/api/upload?report=1")
    page.locator("#upload-close").tap()

    # -- the phone goes offline mid-batch: the file waits for the Wi-Fi, then arrives ---------------
    shutil.copy(sample("orientation/portrait_8.jpg"), tmp_path / "wifi" / "IMG_2003.JPG")
    context.set_offline(True)
    with page.expect_file_chooser() as chooser:
        page.locator("#add-photos").tap()
    chooser.value.set_files([str(tmp_path / "wifi" / "IMG_2003.JPG")])
    page.wait_for_selector("#upload-list .up-status:has-text('Waiting for the Wi-Fi to come back')",
                           timeout=15_000)
    shot(page, "iphone-15-upload-offline")
    context.set_offline(False)
    page.wait_for_selector("#upload-list .up-file[data-name='IMG_2003.JPG'][data-state=imported]",
                           timeout=15_000)
    page.locator("#upload-close").tap()

    # -- a card with every kind of trouble, imported by the real importer --------------------------
    card = tmp_path / "card"
    bad_card(card)
    store = Store(config.db_path)
    Importer(config, store).import_card(card, source="card EOS_DIGITAL (/dev/sdz1)")
    store.close()
    page.wait_for_selector("#card-banner .import-report.keep", timeout=15_000)
    banner = page.locator("#card-banner")
    assert "⚠ Keep the card" in banner.locator(".ir-verdict").inner_text()
    assert banner.locator(".ir-why").inner_text() == (
        "2 files could not be read and 1 file is empty (0 bytes) — keep the card")
    assert banner.locator(".ir-line").inner_text() == (
        "3 imported · 1 duplicate · 2 unreadable · 1 zero-byte · 2 hidden files ignored · "
        "1 not a photo (left on the card)")
    listed = open_every_category(page, "#card-banner")
    assert listed == {
        "imported": [f"DCIM/100CANON/IMG_000{n}.JPG" for n in (1, 2, 3)],
        "duplicates": ["DCIM/100CANON/IMG_0008.JPG"],
        "unreadable": ["DCIM/100CANON/IMG_0006.JPG", "DCIM/100CANON/IMG_0007.JPG"],
        "zero_byte": ["DCIM/100CANON/IMG_0005.JPG"],
        "hidden": ["DCIM/100CANON/._IMG_0001.JPG", "DCIM/100CANON/Thumbs.db"],  # a card: DCIM/ only
        "not_photo": ["DCIM/100CANON/MVI_0004.MP4"],
    }
    touch_targets_ok(page, "#card-banner summary, #card-banner .ir-close")
    page.locator("#card-banner [data-category=imported] summary").tap()
    page.locator("#card-banner [data-category=hidden] summary").tap()
    page.locator("#card-banner [data-category=not_photo] summary").tap()
    page.evaluate("scrollTo(0, 0)")
    page.wait_for_timeout(300)  # the disclosure arrows' turn
    shot(page, "iphone-15-card-report")
    assert "Do not format it" in banner.locator(".ir-note").inner_text()
    assert page.text_content("#st-card") == (
        "2 files could not be read and 1 file is empty (0 bytes) — keep the card".capitalize())

    # -- the bucket refuses: plain words, the raw text behind Details ------------------------------
    store = Store(config.db_path)
    publisher = Publisher(config, store)
    pub_id = publisher.request(photos[0], {})
    publisher.process(store.claim_publication(pub_id))
    missing = replace(config, bucket=replace(config.bucket, bucket=f"missing-{uuid.uuid4().hex[:8]}"))
    Syncer(missing, store).drain_once()
    # and a camera's burst over FTP: one small import per frame, one report
    burst = tmp_path / "ftp"
    burst.mkdir()
    shutil.copy(sample("orientation/landscape_6.jpg"), burst / "DSC_0001.JPG")
    (burst / "DSC_0002.JPG").write_bytes(b"")
    for frame in sorted(burst.iterdir()):
        Importer(config, store).import_paths([(frame, None)], source="ftp camera-a")
    store.close()
    page.locator("#status").tap()
    page.wait_for_selector("#st-error:not([hidden]) .pe-message")
    message = page.inner_text("#st-error .pe-message")
    assert message.startswith("The bucket does not exist. Check the bucket name")
    assert "NoSuchBucket" not in message and "HTTP" not in message
    touch_targets_ok(page, "#st-error .pe-details summary, #st-camera-reports summary")
    page.locator("#st-error .pe-details summary").tap()
    assert "NoSuchBucket" in page.inner_text("#st-error .pe-details code")
    page.wait_for_selector("#st-camera-reports .import-report.keep")
    camera = page.locator("#st-camera-reports .import-report")
    assert "FTP camera camera-a" in camera.inner_text()
    assert camera.locator(".ir-line").inner_text() == "1 imported · 1 zero-byte"
    shot(page, "iphone-15-bucket-error")

    assert not errors, errors
    # the only console lines: the browser's own for the connections the test cut (one per try)
    lines = [(m.text, m.location.get("url", "")) for m in console]
    assert all(text == f"Failed to load resource: {DROPPED}" for text, _ in lines), lines
    uploads = [url for _, url in lines if "/api/upload" in url]
    assert len(uploads) == 2 + 4 + 1, lines  # the cut tries, and the one try while offline
    # while offline the page's own polls fail too (/api/status, /api/autopublish/waiting): nothing else
    assert all(url.startswith(f"{server}/api/") for _, url in lines), lines
    context.close()


def test_add_photos_on_a_laptop(playwright_browser, server, config: Config, photos,  # noqa: F811
                                tmp_path: Path) -> None:
    """The same upload at 1440 x 900: the panel sits at the bottom right, the grid stays usable."""
    context = playwright_browser.new_context(viewport={"width": 1440, "height": 900}, bypass_csp=True)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: console.append(str(exc)))
    login(page, server)
    (tmp_path / "laptop").mkdir()
    shutil.copy(sample("orientation/portrait_7.jpg"), tmp_path / "laptop" / "IMG_3001.JPG")
    (tmp_path / "laptop" / "IMG_3002.JPG").write_bytes(b"")
    with open(tmp_path / "laptop" / "HUGE.JPG", "wb") as huge:  # sparse: past importer.upload_max_mb
        huge.truncate((config.importer.upload_max_mb + 1) * 1024 * 1024)
    with page.expect_file_chooser() as chooser:
        page.locator("#add-photos").click()
    chooser.value.set_files([str(tmp_path / "laptop" / n) for n in ("IMG_3001.JPG", "IMG_3002.JPG",
                                                                    "HUGE.JPG")])
    page.wait_for_selector("#upload-panel[data-state=done]", timeout=30_000)
    assert page.inner_text("#upload-report .ir-line") == "1 imported · 1 zero-byte · 1 failed"
    assert page.inner_text("#upload-list .up-file[data-name='HUGE.JPG'] .up-status") == (
        f"The file is larger than this appliance accepts ({config.importer.upload_max_mb} MB).")
    box = page.locator("#upload-panel").bounding_box()
    assert box["width"] <= 440 and box["x"] > 900, box  # a side panel, not a full-width sheet
    page.locator("#upload-report [data-category=zero_byte] summary").click()
    page.wait_for_timeout(300)  # the disclosure arrow's turn
    shot(page, "desktop-15-upload-report")
    assert not console, console
    context.close()
