"""Ratings in and out: the camera's rating and protect flag read at import from real samples, and
ratings/picks exported as XMP sidecars beside the archived originals, read back with ExifTool."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from support.files import sha256
from support.originals import RAW_ONLY
from support.rated import rated_frame
from support.samples import sample
from support.sessions import login

from appliance.admin import create_app
from appliance.config import Config
from appliance.imaging.xmp_sidecar import sidecar_xml
from appliance.ingest.importer import Importer
from appliance.store import Store

EXIFTOOL = shutil.which("exiftool")


def read_back(path: Path) -> dict:
    """The sidecar's tags as ExifTool reads them (as Lightroom's and Photo Mechanic's readers do),
    or from the XML when ExifTool is not installed."""
    if EXIFTOOL:
        out = subprocess.run([EXIFTOOL, "-j", "-n", "-XMP:all", str(path)], check=True,
                             capture_output=True, text=True).stdout
        return json.loads(out)[0]
    import xml.etree.ElementTree as ET

    desc = ET.parse(path).getroot().find(".//{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Description")
    assert desc is not None
    return {key.split("}")[1]: (int(v) if v.lstrip("-").isdigit() else v) for key, v in desc.attrib.items()}


@pytest.fixture
def authed(config: Config):
    app = create_app(config)
    app.config["TESTING"] = True
    client = app.test_client()
    client.environ_base["HTTP_X_CSRFTOKEN"] = login(client)
    return client


@pytest.fixture
def card(tmp_path: Path) -> Path:
    """Real camera frames: one rated 3 in XMP by ExifTool (as Lightroom or a camera writes the
    packet), one with the EXIF Rating 5, one protected (read-only, as the camera's protect key
    leaves it on a FAT card), one plain."""
    folder = tmp_path / "card" / "DCIM" / "100CANON"
    folder.mkdir(parents=True)
    xmp = folder / "XMP_3.JPG"
    shutil.copyfile(sample("gps/DSCN0012.jpg"), xmp)  # (the shared samples are read-only)
    if EXIFTOOL:
        subprocess.run([EXIFTOOL, "-q", "-overwrite_original", "-XMP-xmp:Rating=3", str(xmp)], check=True)
    rated_frame(sample("exif-org/canon-ixus.jpg"), folder / "EXIF_5.JPG", rating=5)
    locked = folder / "LOCKED.JPG"
    shutil.copyfile(sample("exif-org/sony-d700.jpg"), locked)
    locked.chmod(0o444)
    shutil.copyfile(sample("exif-org/nikon-e950.jpg"), folder / "PLAIN.JPG")
    return tmp_path / "card"


@pytest.mark.skipif(not EXIFTOOL, reason="exiftool writes the XMP sample")
def test_camera_rating_and_protect_flag_are_read_at_import(authed, config, store: Store, card) -> None:
    Importer(config, store).import_tree(card)
    by_name = {p["name"]: p for p in authed.get("/api/buffer").get_json()["photos"]}
    assert {n: (p["rating"], p["protected"]) for n, p in by_name.items()} == {
        "XMP_3.JPG": (3, False), "EXIF_5.JPG": (5, False), "LOCKED.JPG": (0, True),
        "PLAIN.JPG": (0, False)}
    assert [p["name"] for p in authed.get("/api/buffer?rating=4").get_json()["photos"]] == ["EXIF_5.JPG"]


def test_export_writes_sidecars_beside_the_archived_originals(authed, config, store: Store, card) -> None:
    Importer(config, store).import_tree(card)
    ids = {r["original_name"]: r["id"] for r in store.rows("SELECT id, original_name FROM photos")}
    authed.post("/api/rate", json={"ids": [ids["PLAIN.JPG"]], "rating": 4})
    authed.post("/api/flag", json={"ids": [ids["PLAIN.JPG"]], "flag": "pick"})
    authed.post("/api/flag", json={"ids": [ids["LOCKED.JPG"]], "flag": "reject"})
    card_files = {p: p.read_bytes() for p in card.rglob("*") if p.is_file()}
    res = authed.post("/api/xmp/export")
    assert res.status_code == 200
    rated = 3 if EXIFTOOL else 2  # the XMP-rated frame, when ExifTool could write its rating
    assert res.get_json() == {"ok": True, "written": rated + 1, "photos": rated + 1}
    buffer = config.folder("buffer")

    def sidecar(name: str) -> Path:
        return (buffer / store.photo(ids[name])["buffer_path"]).with_suffix(".xmp")

    picked = read_back(sidecar("PLAIN.JPG"))
    assert (picked["Rating"], picked["Label"], picked["PreservedFileName"]) == (4, "Select", "PLAIN.JPG")
    assert picked["Tagged"] in (True, "True", 1)
    rejected = read_back(sidecar("LOCKED.JPG"))
    assert rejected["Rating"] == -1 and "Label" not in rejected and rejected["Tagged"] in (False, "False", 0)
    assert read_back(sidecar("EXIF_5.JPG"))["Rating"] == 5
    assert sidecar("PLAIN.JPG").read_bytes() == sidecar_xml(4, "picked", "PLAIN.JPG")
    assert {p: p.read_bytes() for p in card.rglob("*") if p.is_file()} == card_files  # card untouched
    assert not list(card.rglob("*.xmp"))
    assert authed.post("/api/xmp/export").get_json()["written"] == 0  # nothing changed: no rewrite
    authed.post("/api/rate", json={"ids": [ids["PLAIN.JPG"]], "rating": 0})
    authed.post("/api/flag", json={"ids": [ids["PLAIN.JPG"]], "flag": "none"})
    assert authed.post("/api/xmp/export").get_json()["written"] == 1  # back to none: updated, kept
    cleared = read_back(sidecar("PLAIN.JPG"))
    assert cleared["Rating"] == 0 and "Label" not in cleared
    assert not list(buffer.rglob(".*")), "a temp file was left"


def test_export_needs_login_and_csrf(config) -> None:
    client = create_app(config).test_client()
    assert client.post("/api/xmp/export").status_code in (400, 401)
    login(client)
    res = client.post("/api/xmp/export")
    assert res.status_code == 400 and "CSRF" in res.get_json()["error"]


def test_a_raw_only_photo_gets_its_sidecar_beside_the_archived_raw(authed, config, store: Store,
                                                                    tmp_path: Path) -> None:
    card = tmp_path / "raw-card"
    card.mkdir()
    shutil.copyfile(RAW_ONLY, card / "P1000001.RW2")
    Importer(config, store).import_tree(card)
    photo = store.rows("SELECT id FROM photos")[0]["id"]
    authed.post("/api/rate", json={"ids": [photo], "rating": 2})
    assert authed.post("/api/xmp/export").get_json()["written"] == 1
    raw = config.folder("archive") / store.raw_by_sha(sha256(card / "P1000001.RW2"))["archive_path"]
    assert read_back(raw.with_suffix(".xmp"))["Rating"] == 2
    assert read_back(raw.with_suffix(".xmp"))["PreservedFileName"] == "P1000001.RW2"
    derived = config.folder("buffer") / store.photo(photo)["buffer_path"]
    assert not derived.with_suffix(".xmp").exists()  # the derived JPEG is no original
