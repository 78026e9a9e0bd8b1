"""The import reports the admin's status gives: the card banner's (new and old stored reports) and
each camera's latest burst of frames over FTP or USB. Real imports of real camera JPEGs into a real
store, read back through the admin's status API."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.report_cards import good_card
from support.samples import sample
from support.sessions import login

from appliance.admin import create_app
from appliance.admin.import_report import camera_reports, card_state, short_name
from appliance.config import Config
from appliance.ingest.importer import Importer
from appliance.store import Store, utcnow


@pytest.fixture
def client(config: Config):
    app = create_app(config)
    app.config["TESTING"] = True
    c = app.test_client()
    login(c)
    return c


def frames(folder: Path) -> list[Path]:
    """Three frames as a camera sends them: two good, one cut short."""
    folder.mkdir(parents=True)
    shutil.copy(sample("gps/DSCN0025.jpg"), folder / "DSC_0001.JPG")
    shutil.copy(sample("gps/DSCN0027.jpg"), folder / "DSC_0002.JPG")
    data = sample("gps/DSCN0029.jpg").read_bytes()
    (folder / "DSC_0003.JPG").write_bytes(data[: len(data) // 4])
    return sorted(folder.iterdir())


def test_a_camera_burst_is_one_report(config: Config, store: Store, tmp_path: Path, client) -> None:
    importer = Importer(config, store)
    for frame in frames(tmp_path / "ftp"):  # one import per frame, as the FTP server does
        importer.import_paths([(frame, None)], source="ftp camera-a")
    tethered = tmp_path / "usb" / "IMG_0001.JPG"
    tethered.parent.mkdir()
    shutil.copy(sample("exif-org/sony-d700.jpg"), tethered)
    importer.import_paths([(tethered, None)], source="tether Sony DSC-D700 42")

    reports = {r["source"]: r for r in client.get("/api/status").get_json()["camera_reports"]}
    ftp = reports["ftp camera-a"]
    assert (ftp["title"], ftp["name"]) == ("FTP camera", "camera-a")
    assert ftp["counts"] == {"imported": 2, "unreadable": 1}
    assert [f["name"] for f in ftp["files"]["imported"]] == ["DSC_0001.JPG", "DSC_0002.JPG"]
    assert ftp["files"]["unreadable"] == [{"name": "DSC_0003.JPG", "reason": "corrupt or truncated JPEG"}]
    assert ftp["safe_to_remove"] is False and ftp["verdict"] == "1 file could not be read — keep the card"
    usb = reports["tether Sony DSC-D700 42"]
    assert usb["title"] == "USB camera" and usb["counts"] == {"imported": 1} and usb["safe_to_remove"]
    # camera frames are not "the card" in the banner
    assert client.get("/api/status").get_json()["card"]["state"] == "idle"


def test_a_pause_ends_a_burst(config: Config, store: Store, tmp_path: Path) -> None:
    importer = Importer(config, store)
    first, second, third = frames(tmp_path / "ftp")
    old = importer.import_paths([(third, None)], source="ftp camera-b")  # the bad frame, earlier
    now = datetime.now(UTC)
    earlier = (now - timedelta(minutes=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    store.update_import(old.import_id, finished_at=earlier)
    for frame in (first, second):
        importer.import_paths([(frame, None)], source="ftp camera-b")
    (report,) = camera_reports(store, now + timedelta(seconds=5))
    assert report["counts"] == {"imported": 2} and report["safe_to_remove"]
    # half an hour later nothing is shown
    assert camera_reports(store, now + timedelta(minutes=31)) == []


def test_the_banner_reads_an_old_report(config: Config, store: Store) -> None:
    """A report stored before the categories (an appliance updated mid-event)."""
    import_id = store.start_import("card CANON (/dev/sda1)")
    store.update_import(import_id, state="done", finished_at=utcnow(), imported=5, duplicates=1,
                        report={"imported": 5, "duplicates": 1, "raw_archived": 0,
                                "skipped": {"empty file (0 bytes)": 1, "system file": 2},
                                "skipped_examples": {"empty file (0 bytes)": ["/media/x/DCIM/100/A.JPG"]},
                                "errors": {}})
    card = card_state(store)
    assert card["safe_to_remove"] is False
    assert card["report"]["counts"] == {"imported": 5, "duplicates": 1, "zero_byte": 1, "hidden": 2}
    assert card["report"]["files"]["zero_byte"] == [{"name": "DCIM/100/A.JPG",
                                                      "reason": "empty file (0 bytes)"}]
    assert card["report"]["verdict"] == "1 file is empty (0 bytes) — keep the card"


def test_a_clean_card_is_safe_and_failures_are_plain(config: Config, store: Store, tmp_path: Path,
                                                       client) -> None:
    dcim = good_card(tmp_path / "card")
    Importer(config, store).import_card(tmp_path / "card", source="card EOS (/dev/sdb1)")
    card = client.get("/api/status").get_json()["card"]
    assert card["safe_to_remove"] is True and card["report"]["title"] == "Card"
    assert card["report"]["verdict"] == ("every photo is imported and verified; ignored on purpose: "
                                         "2 hidden files and 1 file that is not a photo")
    # a file gone between listing and reading: plain words, the raw error as details
    Importer(config, store).import_paths([(dcim / "IMG_0009.JPG", None)], source="card EOS (/dev/sdb1)")
    card = client.get("/api/status").get_json()["card"]
    (failed,) = card["report"]["files"]["failed"]
    assert failed["reason"].startswith("The file was gone when it was read")
    assert failed["details"] == "cannot read: No such file or directory"
    assert card["safe_to_remove"] is False


def test_short_names() -> None:
    assert short_name("/media/cards/1234-ABCD/DCIM/100CANON/IMG_0001.JPG") == "DCIM/100CANON/IMG_0001.JPG"
    assert short_name("/var/lib/appliance/state/uploads/.upload-x/IMG_0001.JPG") == "IMG_0001.JPG"
