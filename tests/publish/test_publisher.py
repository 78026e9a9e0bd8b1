"""The publish worker end to end on real files and a real SQLite store; plus the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from support.config import local_config, write_local_config
from support.files import sha256
from support.publications import publish
from support.samples import sample, sample_files

from appliance.fsutil import TEMP_PREFIX
from appliance.ingest.importer import Importer
from appliance.publish import manifest
from appliance.publish.worker import PHOTO_CACHE, base_name, bucket_key

REPO = Path(__file__).resolve().parents[2]
APPLIANCE = REPO / ".venv" / "bin" / "appliance"


def _import(config, store, source: str, name: str = "IMG_0001.JPG") -> int:
    card = config.paths.data_root.parent / "card" / source.replace("/", "_")
    card.mkdir(parents=True)
    shutil.copyfile(sample(source), card / name)
    report = Importer(config, store).import_tree(card)
    assert report.summary()["imported"] == 1, report.summary()
    return store.photo_by_sha(sha256(card / name))["id"]


def _local_manifest(config) -> dict:
    return json.loads((config.folder("web") / "party" / manifest.MANIFEST_NAME).read_bytes())


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_publish_a_real_photo(env) -> None:
    config, store, publisher = env
    photo_id = _import(config, store, "exif-org/fujifilm-dx10.jpg")  # 1024×768
    pub = publish(publisher, store, photo_id)

    assert pub["state"] == "published", pub["error"]
    assert pub["name"] == "IMG_0001"
    assert pub["error"] is None and pub["published_at"]
    event_dir = config.folder("web") / "party"
    web = event_dir / "photos" / "IMG_0001.jpg"
    thumb = event_dir / "thumbs" / "IMG_0001.jpg"
    with Image.open(web) as im:
        assert (pub["width"], pub["height"]) == im.size == (512, 384)
    with Image.open(thumb) as im:
        assert (pub["thumb_width"], pub["thumb_height"]) == im.size == (160, 120)
    assert pub["color"].startswith("#")
    assert not [p for p in event_dir.rglob(f"{TEMP_PREFIX}*")]

    jobs = store.rows("SELECT * FROM jobs ORDER BY id")
    assert [j["kind"] for j in jobs] == ["upload", "upload"]
    assert {j["key"] for j in jobs} == {
        "events/party/photos/IMG_0001.jpg", "events/party/thumbs/IMG_0001.jpg"
    }
    for job in jobs:
        assert job["state"] == "pending"
        assert job["publication_id"] == pub["id"]
        assert job["content_type"] == "image/jpeg"
        assert job["cache_control"] == PHOTO_CACHE
        assert "immutable" in job["cache_control"]
        assert job["size"] == Path(job["path"]).stat().st_size
        assert Path(job["path"]) in (web, thumb)

    data = _local_manifest(config)
    assert data["event"]["slug"] == "party"
    assert data["event"]["title"] == "Party time"
    [entry] = data["photos"]
    assert entry["name"] == "IMG_0001"
    assert entry["src"] == "photos/IMG_0001.jpg"
    assert entry["thumb"] == "thumbs/IMG_0001.jpg"
    assert (entry["w"], entry["h"]) == (512, 384)
    assert (entry["tw"], entry["th"]) == (160, 120)
    assert entry["taken"].startswith("2001-04-12T20:33:14")  # the importer adds .mmm
    assert store.status()["published"] == 1


def test_publish_portrait_sample_records_upright_size(env) -> None:
    config, store, publisher = env
    photo_id = _import(config, store, "orientation/portrait_6.jpg")
    pub = publish(publisher, store, photo_id, {"exposure": 0.5})
    assert pub["state"] == "published", pub["error"]
    assert json.loads(pub["recipe"])["exposure"] == 0.5
    with Image.open(config.folder("web") / "party" / "photos" / f"{pub['name']}.jpg") as im:
        assert im.height > im.width
        assert (pub["width"], pub["height"]) == im.size == (384, 512)


def test_every_camera_sample_imports_and_publishes(env, tmp_path: Path) -> None:
    config, store, publisher = env
    card = tmp_path / "many-cameras"
    card.mkdir()
    for path in sample_files("exif-org/*.jpg"):
        shutil.copyfile(path, card / path.name)
    summary = Importer(config, store).import_tree(card).summary()
    count = len(list(card.iterdir()))
    assert summary["imported"] == count >= 10, summary
    for photo in store.rows("SELECT * FROM photos"):
        pub = publish(publisher, store, photo["id"])
        assert pub["state"] == "published", (photo["original_name"], pub["error"])
        # the published size follows the imported (upright) aspect ratio
        assert (pub["width"] > pub["height"]) == (photo["width"] > photo["height"])
        assert max(pub["width"], pub["height"]) == min(512, max(photo["width"], photo["height"]))
    assert len(_local_manifest(config)["photos"]) == count


def test_corrupt_buffer_file_fails_cleanly(env) -> None:
    config, store, publisher = env
    photo_id = _import(config, store, "gps/DSCN0010.jpg")
    buffered = config.folder("buffer") / store.photo(photo_id)["buffer_path"]
    data = buffered.read_bytes()
    buffered.write_bytes(data[: len(data) // 2])  # the buffer copy went bad

    pub = publish(publisher, store, photo_id)
    assert pub["state"] == "failed"
    assert "truncated" in pub["error"]
    event_dir = config.folder("web") / "party"
    assert not (event_dir / "photos").exists() or _files(event_dir / "photos") == []
    assert not (event_dir / "thumbs").exists() or _files(event_dir / "thumbs") == []
    assert store.rows("SELECT * FROM jobs") == []
    assert store.status()["failed"] == 1


def test_missing_buffer_file_fails(env) -> None:
    config, store, publisher = env
    photo_id = _import(config, store, "gps/DSCN0012.jpg")
    (config.folder("buffer") / store.photo(photo_id)["buffer_path"]).unlink()
    pub = publish(publisher, store, photo_id)
    assert pub["state"] == "failed"
    assert "missing" in pub["error"]


def test_failed_thumbnail_write_leaves_no_web_file(env) -> None:
    config, store, publisher = env
    photo_id = _import(config, store, "gps/DSCN0021.jpg")
    event_dir = config.folder("web") / "party"
    event_dir.mkdir(parents=True)
    (event_dir / "thumbs").write_bytes(b"a file where the thumbs folder should be")
    pub = publish(publisher, store, photo_id)
    assert pub["state"] == "failed"
    assert pub["error"]
    assert _files(event_dir) == ["thumbs"]  # no photo, no temp file
    assert store.rows("SELECT * FROM jobs") == []


def test_request_validates_recipe_and_photo(env) -> None:
    config, store, publisher = env
    from appliance.imaging.recipe import RecipeError

    photo_id = _import(config, store, "gps/DSCN0027.jpg")
    with pytest.raises(RecipeError, match="exposure"):
        publisher.request(photo_id, {"exposure": 3})
    with pytest.raises(LookupError):
        publisher.request(photo_id + 100)
    assert store.scalar("SELECT COUNT(*) FROM publications") == 0


def test_run_once(env) -> None:
    config, store, publisher = env
    assert publisher.run_once() is False
    photo_id = _import(config, store, "gps/DSCN0029.jpg")
    pub_id = publisher.request(photo_id)
    assert publisher.run_once() is True
    assert store.publication(pub_id)["state"] == "published"
    assert publisher.run_once() is False


def test_unpublish_moves_files_to_trash_and_queues_deletes(env) -> None:
    config, store, publisher = env
    photo_id = _import(config, store, "gps/DSCN0038.jpg")
    pub = publish(publisher, store, photo_id)
    name = pub["name"]
    event_dir = config.folder("web") / "party"
    web_bytes = (event_dir / "photos" / f"{name}.jpg").read_bytes()

    publisher.unpublish(pub["id"])

    assert store.publication(pub["id"])["state"] == "unpublished"
    assert store.publication(pub["id"])["unpublished_at"]
    assert not (event_dir / "photos" / f"{name}.jpg").exists()
    assert not (event_dir / "thumbs" / f"{name}.jpg").exists()
    trash = config.folder("trash") / "party"
    assert (trash / "photos" / f"{name}.jpg").read_bytes() == web_bytes
    assert (trash / "thumbs" / f"{name}.jpg").is_file()

    jobs = store.rows("SELECT * FROM jobs WHERE state = 'pending' ORDER BY id")
    manifests = [j for j in jobs if j["kind"] == "manifest"]
    deletes = [j for j in jobs if j["kind"] == "delete"]
    assert len(manifests) == 1
    assert manifests[0]["key"] == "events/party/manifest.json"
    assert {j["key"] for j in deletes} == {
        f"events/party/photos/{name}.jpg", f"events/party/thumbs/{name}.jpg"
    }
    # the uploads that had not gone out yet are cancelled
    assert store.scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'upload' AND state = 'pending'") == 0
    assert store.scalar("SELECT COUNT(*) FROM jobs WHERE kind='upload' AND state='cancelled'") == 2
    assert _local_manifest(config)["photos"] == []

    with pytest.raises(ValueError, match="not published"):
        publisher.unpublish(pub["id"])
    with pytest.raises(LookupError):
        publisher.unpublish(pub["id"] + 100)


def test_republish_gets_the_next_name(env) -> None:
    config, store, publisher = env
    photo_id = _import(config, store, "gps/DSCN0040.jpg", name="DSCN0040.JPG")
    first = publish(publisher, store, photo_id)
    assert first["name"] == "DSCN0040"
    publisher.unpublish(first["id"])
    second = publish(publisher, store, photo_id)
    assert second["state"] == "published"
    assert second["name"] == "DSCN0040_002"
    assert (config.folder("web") / "party" / "photos" / "DSCN0040_002.jpg").is_file()
    assert [p["name"] for p in _local_manifest(config)["photos"]] == ["DSCN0040_002"]
    # publishing again while the first copy is live gives a third name
    third = publish(publisher, store, photo_id, {"rotate": 90})
    assert third["name"] == "DSCN0040_003"
    names = [p["name"] for p in _local_manifest(config)["photos"]]
    assert sorted(names) == ["DSCN0040_002", "DSCN0040_003"]


def test_two_photos_with_the_same_name_publish_side_by_side(env) -> None:
    config, store, publisher = env
    a = _import(config, store, "exif-org/canon-ixus.jpg", name="IMG_0001.JPG")
    b = _import(config, store, "exif-org/kodak-dc240.jpg", name="IMG_0001.JPG")
    pa, pb = publish(publisher, store, a), publish(publisher, store, b)
    assert {pa["name"], pb["name"]} == {"IMG_0001", "IMG_0001_002"}
    photos = config.folder("web") / "party" / "photos"
    assert _files(photos) == ["IMG_0001.jpg", "IMG_0001_002.jpg"]
    assert (photos / "IMG_0001.jpg").read_bytes() != (photos / "IMG_0001_002.jpg").read_bytes()


@pytest.mark.parametrize(
    ("original", "base"),
    [
        ("IMG_7109.JPG", "IMG_7109"),
        ("my photo #1.jpg", "my_photo__1"),
        ("../../etc/passwd.jpg", "passwd"),
        ("....jpg", "photo"),
        ("_DSC0001.JPG", "DSC0001"),
    ],
)
def test_base_name(original: str, base: str) -> None:
    assert base_name(original) == base


def test_bucket_key_prefix(tmp_path: Path) -> None:
    assert bucket_key(local_config(tmp_path), "party", "a.jpg") == "events/party/a.jpg"
    config = local_config(tmp_path, '[bucket]\nprefix = ""\n')
    assert bucket_key(config, "party", "a.jpg") == "party/a.jpg"


# -- CLI ----------------------------------------------------------------------------------------
def _cli(config_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "APPLIANCE_CONFIG"}
    command = [str(APPLIANCE)] if APPLIANCE.exists() else [sys.executable, "-m", "appliance"]
    return subprocess.run(
        [*command, "--config", str(config_path), *args],
        capture_output=True, text=True, timeout=120, env=env,
    )


def test_cli_import_publish_status(tmp_path: Path) -> None:
    config_path = write_local_config(tmp_path, "[publish]\nlong_edge = 320\n[event]\nslug = 'cli-test'\n")
    card = tmp_path / "card" / "DCIM"
    card.mkdir(parents=True)
    shutil.copyfile(sample("gps/DSCN0010.jpg"), card / "DSCN0010.JPG")
    shutil.copyfile(sample("gps/DSCN0012.jpg"), card / "DSCN0012.JPG")  # taken 70 s later
    (card / "notes.txt").write_text("x")

    result = _cli(config_path, "import", str(tmp_path / "card"), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["imported"] == 2
    assert summary["duplicates"] == 0
    assert summary["skipped"] == {"not a photo (.txt)": 1}
    assert summary["errors"] == {}

    result = _cli(config_path, "publish", "--latest")
    assert result.returncode == 0, result.stderr
    # --latest is the newest by capture time, not the last file imported
    assert result.stdout.startswith("DSCN0012: published (320x240)"), result.stdout
    assert (tmp_path / "data" / "web" / "cli-test" / "photos" / "DSCN0012.jpg").is_file()

    result = _cli(config_path, "status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["published"] == 1
    assert status["buffer"] == 2
    assert status["event"] == "cli-test"
    assert status["queue"]["jobs"] == 2

    result = _cli(config_path, "import", str(tmp_path / "card"), "--json")
    assert json.loads(result.stdout)["duplicates"] == 2


def test_cli_publish_bad_recipe_and_empty_buffer(tmp_path: Path) -> None:
    config_path = write_local_config(tmp_path)
    result = _cli(config_path, "publish", "--latest")
    assert result.returncode == 2
    assert "buffer is empty" in result.stderr
    card = tmp_path / "card"
    card.mkdir()
    shutil.copyfile(sample("gps/DSCN0042.jpg"), card / "DSCN0042.JPG")
    assert _cli(config_path, "import", str(card)).returncode == 0
    result = _cli(config_path, "publish", "--latest", "--exposure", "5")
    assert result.returncode == 2
    assert "exposure" in result.stderr
    result = _cli(config_path, "publish", "1", "--rotate", "90")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("DSCN0042: published (480x640)"), result.stdout
    result = _cli(config_path, "publish")
    assert result.returncode == 2
