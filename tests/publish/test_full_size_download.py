"""Full-size downloads: with the event's download size "full", each publish also renders the photo
at its own size through the same pipeline (edits, watermark, credits; no GPS or other camera
metadata) as originals/<name>.jpg, uploads it with the photo, lists it in the manifest and takes
it down with it. "web" (the default) renders nothing more."""

from __future__ import annotations

import shutil

from PIL import Image
from support.files import sha256
from support.publications import publish
from support.samples import sample

from appliance.imaging.metadata import exif_ifd
from appliance.ingest.importer import Importer
from appliance.publish import manifest
from appliance.publish.worker import bucket_key

GPS_IFD = 0x8825


def _import(config, store, source: str) -> int:  # noqa: ANN001
    card = config.paths.data_root.parent / "card"
    card.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sample(source), card / "DSC_0001.JPG")
    Importer(config, store).import_tree(card)
    return store.photo_by_sha(sha256(card / "DSC_0001.JPG"))["id"]


def _upload_keys(store, pub_id: int) -> set[str]:  # noqa: ANN001
    return {r["key"] for r in store.rows("SELECT key FROM jobs WHERE kind = 'upload' AND publication_id = ?",
                                         (pub_id,))}


def test_full_size_rendered_uploaded_listed_and_taken_down(env) -> None:
    config, store, publisher = env
    event = store.current_event()
    store.set_setting(f"download_size.{event['id']}", "full")
    photo_id = _import(config, store, "gps/DSCN0010.jpg")  # 640×480 with GPS
    with Image.open(sample("gps/DSCN0010.jpg")) as src:
        assert GPS_IFD in src.getexif()
        size = src.size
    pub = publish(publisher, store, photo_id, {"exposure": 0.5})
    assert pub["state"] == "published", pub["error"]
    assert pub["original"] == 1
    full = config.folder("web") / "party" / "originals" / f"{pub['name']}.jpg"
    with Image.open(full) as im:
        assert im.size == size and (pub["width"], pub["height"]) == (512, 384)  # the web JPEG stays small
        exif = im.getexif()
        assert GPS_IFD not in exif, "the camera's location never leaves with a download"
        assert not exif_ifd(exif).get(0xA431)  # no body serial number either
    assert bucket_key(config, "party", f"originals/{pub['name']}.jpg") in _upload_keys(store, pub["id"])

    built = manifest.build(store, event["id"], live_only=False)
    assert built["event"]["download"] == "original"
    assert built["photos"][0]["original"] == f"originals/{pub['name']}.jpg"

    publisher.unpublish(pub["id"])
    deletes = {r["key"] for r in store.rows("SELECT key FROM jobs WHERE kind = 'delete'")}
    assert bucket_key(config, "party", f"originals/{pub['name']}.jpg") in deletes
    assert not full.exists()


def test_web_size_by_default_renders_nothing_more(env) -> None:
    config, store, publisher = env
    pub = publish(publisher, store, _import(config, store, "gps/DSCN0010.jpg"))
    assert pub["original"] == 0
    assert not (config.folder("web") / "party" / "originals").exists()
    assert all("originals/" not in k for k in _upload_keys(store, pub["id"]))
    built = manifest.build(store, store.current_event()["id"], live_only=False)
    assert "download" not in built["event"] and "original" not in built["photos"][0]
