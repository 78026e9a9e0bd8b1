"""The publish worker end to end on a real store: names, unpublish, manifest, watermark, bad input."""

from __future__ import annotations

import gzip
import io
import json
import random
from pathlib import Path

import pytest
from PIL import Image
from support.config import local_config
from support.images import exif_bytes, marked_pattern, region_mean, save_jpeg
from support.publications import publish
from support.samples import sample

from appliance.config import Config
from appliance.fsutil import TEMP_PREFIX
from appliance.imaging import pipeline, watermark
from appliance.imaging.recipe import Recipe, RecipeError
from appliance.ingest.importer import Importer
from appliance.publish import credits, manifest, watermark_settings
from appliance.publish.worker import Publisher, preview
from appliance.store import Store

PARTY = '[event]\nslug = "party"\ntitle = "Party"\n'


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """No bucket here: a local config of the event "party" (instead of the moto one)."""
    return local_config(tmp_path, PARTY)


def card_photo(card: Path, relative: str, seed: int, size: tuple[int, int] = (900, 600),
               **params) -> Path:
    """A distinct camera-like JPEG on the card."""
    rng = random.Random(seed)
    image = marked_pattern(size)
    image.paste(tuple(rng.randrange(256) for _ in range(3)), (size[0] // 3, size[1] // 3,
                                                              size[0] // 2, size[1] // 2))
    params.setdefault("exif", exif_bytes(t010f="Canon", t0110="EOS R6", gps=True,
                                         sub={0x9003: f"2026:06:14 12:{seed % 60:02d}:00"}))
    return save_jpeg(card / relative, image, **params)


def import_card(config: Config, store: Store, card: Path) -> dict[str, int]:
    Importer(config, store).import_tree(card)
    return {Path(r["source_path"]).relative_to(card).as_posix(): r["id"]
            for r in store.rows("SELECT id, source_path FROM photos")}


def utf8(value: str) -> str:
    """EXIF text as UTF-8 (Pillow hands ASCII-typed tags back decoded as Latin-1)."""
    return value.encode("latin-1").decode("utf-8")


def web_files(config: Config) -> set[str]:
    root = config.folder("web") / "party"
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def local_manifest(config: Config) -> dict:
    return json.loads((config.folder("web") / "party" / manifest.MANIFEST_NAME).read_bytes())


# -- names -------------------------------------------------------------------------------------
def test_sequential_names_never_reused(config, store, tmp_path):
    card = tmp_path / "card"
    card_photo(card, "DCIM/100CANON/IMG_7109.JPG", 1)
    card_photo(card, "DCIM/100CANON/IMG_0001.JPG", 2)
    card_photo(card, "DCIM/101NIKON/IMG_0001.JPG", 3)  # another camera, same file name
    ids = import_card(config, store, card)
    publisher = Publisher(config, store)
    img = ids["DCIM/100CANON/IMG_7109.JPG"]
    names = [publish(publisher, store, img)["name"] for _ in range(3)]
    assert names == ["IMG_7109", "IMG_7109_002", "IMG_7109_003"]
    third = store.row("SELECT id FROM publications WHERE name = 'IMG_7109_003'")
    publisher.unpublish(third["id"])
    assert publish(publisher, store, img)["name"] == "IMG_7109_004"  # _003 is not reused
    first = store.row("SELECT id FROM publications WHERE name = 'IMG_7109'")
    publisher.unpublish(first["id"])
    assert publish(publisher, store, img)["name"] == "IMG_7109_005"
    canon = publish(publisher, store, ids["DCIM/100CANON/IMG_0001.JPG"])
    nikon = publish(publisher, store, ids["DCIM/101NIKON/IMG_0001.JPG"])
    assert (canon["name"], nikon["name"]) == ("IMG_0001", "IMG_0001_002")
    assert {"photos/IMG_0001.jpg", "photos/IMG_0001_002.jpg"} <= web_files(config)
    a = Image.open(config.folder("web") / "party" / "photos" / "IMG_0001.jpg")
    b = Image.open(config.folder("web") / "party" / "photos" / "IMG_0001_002.jpg")
    assert a.convert("RGB").tobytes() != b.convert("RGB").tobytes()  # two different photos


# -- manifest -----------------------------------------------------------------------------------
def check_manifest_matches(config: Config, store: Store) -> dict:
    """The local manifest lists exactly the store's published photos, with the files' real sizes."""
    data = local_manifest(config)
    event = store.current_event()
    published = store.published(event["id"])
    assert [p["name"] for p in data["photos"]] == [p["name"] for p in published]
    root = config.folder("web") / "party"
    expected_files = {manifest.MANIFEST_NAME}
    for entry in data["photos"]:
        with Image.open(root / entry["src"]) as image:
            assert image.size == (entry["w"], entry["h"]), entry["name"]
        with Image.open(root / entry["thumb"]) as image:
            assert image.size == (entry["tw"], entry["th"]), entry["name"]
        assert entry["published"] and entry["taken"].startswith("2026-06-14T12:")
        assert entry["color"].startswith("#") and len(entry["ph"]) == 27
        expected_files |= {entry["src"], entry["thumb"]} | ({entry["webp"]} if "webp" in entry else set())
    assert web_files(config) == expected_files  # nothing else (no partial output) in the web folder
    stamps = [(e["published"], store.row("SELECT id FROM publications WHERE name = ?",
                                        (e["name"],))["id"]) for e in data["photos"]]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    return data


def test_manifest_matches_web_folder_and_store_through_unpublish(config, store, tmp_path):
    card = tmp_path / "card"
    for i in range(4):
        card_photo(card, f"DCIM/100CANON/IMG_{i:04d}.JPG", 10 + i,
                   size=(900, 600) if i % 2 else (600, 900))
    ids = import_card(config, store, card)
    publisher = Publisher(config, store)
    pubs = [publish(publisher, store, photo_id) for photo_id in sorted(ids.values())]
    data = check_manifest_matches(config, store)
    assert len(data["photos"]) == 4 and data["event"]["slug"] == "party"
    gone = pubs[1]
    web_before = (config.folder("web") / "party" / "photos" / f"{gone['name']}.jpg").read_bytes()
    publisher.unpublish(gone["id"])
    data = check_manifest_matches(config, store)
    assert gone["name"] not in {e["name"] for e in data["photos"]} and len(data["photos"]) == 3
    trash = config.folder("trash") / "party"
    assert (trash / "photos" / f"{gone['name']}.jpg").read_bytes() == web_before  # nothing lost
    assert (trash / "thumbs" / f"{gone['name']}.jpg").is_file()
    deletes = store.rows("SELECT key FROM jobs WHERE kind = 'delete' AND publication_id = ?",
                         (gone["id"],))
    assert {d["key"] for d in deletes} == {f"events/party/photos/{gone['name']}.jpg",
                                           f"events/party/thumbs/{gone['name']}.jpg"}
    with pytest.raises(ValueError, match="not published"):
        publisher.unpublish(gone["id"])


def test_a_burst_of_publishes_writes_the_manifest_once(config, store, tmp_path):
    card = tmp_path / "card"
    for i in range(6):
        card_photo(card, f"IMG_{i:04d}.JPG", 20 + i, size=(480, 320))
    ids = import_card(config, store, card)
    publisher = Publisher(config, store, manifest_max_delay=60)
    for photo_id in ids.values():
        publisher.request(photo_id, {})
    while publisher.run_once():
        pass
    assert publisher.manifest_writes == 1
    assert len(local_manifest(config)["photos"]) == 6
    check_manifest_matches(config, store)
    # Without the coalescing window every publish would have rewritten it.
    eager = Publisher(config, store, manifest_max_delay=0)
    for photo_id in ids.values():
        eager.request(photo_id, {})
    while eager.run_once():
        pass
    assert eager.manifest_writes == 6


def test_manifest_for_2500_photos_is_small_gzipped(config, store, capsys):
    event = store.current_event()
    rng = random.Random(4)
    with store.transaction():
        store.conn.execute("INSERT INTO photos (sha256, original_name, buffer_path, size, imported_at)"
                           " VALUES ('x', 'x.jpg', 'x', 1, '2026-06-14T12:00:00Z')")
        for i in range(2500):
            name = f"IMG_{1000 + i}" if i % 7 else f"DSC_{1000 + i}_002"
            portrait = rng.random() < 0.3
            cells = "".join(rng.choice("0123456789abcdef") for _ in range(27))
            store.conn.execute(
                "INSERT INTO publications (photo_id, event_id, base, seq, name, recipe, state, width,"
                " height, thumb_width, thumb_height, color, placeholder, requested_at, published_at)"
                " VALUES (1, ?, ?, 1, ?, '{}', 'published', ?, ?, ?, ?, ?, ?, ?, ?)",
                (event["id"], name, name, 1365 if portrait else 2048, 2048 if portrait else 1365,
                 320 if portrait else 480, 480 if portrait else 320, f"#{rng.randrange(1 << 24):06x}",
                 cells, "2026-06-14T12:00:00Z",
                 f"2026-06-14T{12 + i // 600:02d}:{i // 10 % 60:02d}:{rng.randrange(60):02d}Z"),
            )
    body = manifest.encode(manifest.build(store, event["id"], live_only=False))
    packed = len(gzip.compress(body, 6))
    with capsys.disabled():
        print(f"\nmanifest for 2500 photos: {len(body) / 1024:.0f} KB, gzipped {packed / 1024:.1f} KB")
    assert len(json.loads(body)["photos"]) == 2500
    assert packed <= 150 * 1024


# -- settings at run time: watermark and credits ---------------------------------------------------
def corner_change(plain: Image.Image, marked: Image.Image) -> tuple[int, int, int, int] | None:
    from PIL import ImageChops

    diff = ImageChops.difference(plain.convert("RGB"), marked.convert("RGB")).convert("L")
    return diff.point(lambda v: 255 if v > 40 else 0).getbbox()


def test_watermark_settings_apply_at_run_time_and_render_once(config, store, tmp_path):
    card = tmp_path / "card"
    for i in range(3):
        card_photo(card, f"L_{i}.JPG", 30 + i, size=(1500, 1000))
    card_photo(card, "P_0.JPG", 40, size=(1000, 1500))
    ids = import_card(config, store, card)
    web = config.folder("web") / "party" / "photos"

    def change(name: str, pub: dict) -> tuple[int, int, int, int] | None:
        """Where the published file differs from a clean render of the same photo."""
        clean = pipeline.render(config.folder("buffer") / store.photo(ids[name])["buffer_path"],
                                Recipe())
        with Image.open(web / f"{pub['name']}.jpg") as image:
            return corner_change(clean, image)

    publisher = Publisher(config, store)  # one long-running worker: no restart between changes
    assert change("L_0.JPG", publish(publisher, store, ids["L_0.JPG"])) is None
    state = config.folder("state")
    watermark_settings.save_settings(store, state, {"enabled": True, "text": "© Jane Doe", "opacity": 0.9,
                                           "size": 0.3, "position": "bottom-right"})
    drawn = watermark.render_count()
    landscape = [publish(publisher, store, ids[f"L_{i}.JPG"]) for i in range(3)]
    assert watermark.render_count() == drawn + 1  # drawn once, not once per photo
    box = change("L_0.JPG", landscape[0])
    assert box is not None and box[0] > 1500 * 0.55 and box[1] > 1000 * 0.7  # bottom right
    mark_width = box[2] - box[0]
    assert 0.2 * 1000 < mark_width <= 0.3 * 1000 + 2  # 30 % of the short edge

    portrait = publish(publisher, store, ids["P_0.JPG"])
    assert (portrait["width"], portrait["height"]) == (1000, 1500)
    pbox = change("P_0.JPG", portrait)
    assert pbox is not None and abs((pbox[2] - pbox[0]) - mark_width) <= 3  # same size either way
    assert pbox[0] > 1000 * 0.55 and pbox[1] > 1500 * 0.7

    watermark_settings.save_settings(store, state, {"position": "top-left"})
    box = change("L_1.JPG", publish(publisher, store, ids["L_1.JPG"]))
    assert box is not None and box[2] < 1500 * 0.45 and box[3] < 1000 * 0.3  # top left now

    watermark_settings.save_settings(store, state, {"enabled": False})
    assert change("L_2.JPG", publish(publisher, store, ids["L_2.JPG"])) is None


def test_png_watermark_is_stored_by_hash_and_its_loss_fails_the_publish(config, store, tmp_path):
    card = tmp_path / "card"
    card_photo(card, "IMG_0001.JPG", 50, size=(1200, 800))
    ids = import_card(config, store, card)
    logo = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    logo.paste((255, 0, 255, 255), (0, 0, 200, 100))
    buffer = io.BytesIO()
    logo.save(buffer, "PNG")
    state = config.folder("state")
    settings = watermark_settings.save_settings(store, state, {"opacity": 1.0, "size": 0.25,
                                                      "position": "center"}, png=buffer.getvalue())
    assert settings.enabled and watermark.png_path(state, settings.png).is_file()
    publisher = Publisher(config, store)
    pub = publish(publisher, store, ids["IMG_0001.JPG"])
    out = Image.open(config.folder("web") / "party" / "photos" / f"{pub['name']}.jpg")
    r, g, b = region_mean(out, (590, 390, 610, 410))
    assert r > 200 and b > 200 and g < 60  # magenta logo in the centre

    with pytest.raises(watermark.WatermarkError, match="PNG"):
        watermark_settings.save_settings(store, state, {}, png=sample("gps/DSCN0010.jpg").read_bytes())
    with pytest.raises(watermark.WatermarkError, match="position must be one of"):
        watermark_settings.save_settings(store, state, {"position": "middle"})
    assert watermark_settings.load_settings(store) == settings  # rejected changes are not saved

    watermark.png_path(state, settings.png).unlink()
    watermark._rendered.cache_clear()
    failed = publish(publisher, store, ids["IMG_0001.JPG"])
    assert failed["state"] == "failed" and "watermark PNG missing" in failed["error"]
    assert not (config.folder("web") / "party" / "photos" / f"{failed['name']}.jpg").exists()


def test_credits_are_written_and_change_at_run_time(config, store, tmp_path):
    card = tmp_path / "card"
    card_photo(card, "IMG_0002.JPG", 60)
    ids = import_card(config, store, card)
    publisher = Publisher(config, store)
    credits.save(store, {"artist": "Jane Doe", "copyright": "© 2026 Jane Doe"})
    first = publish(publisher, store, ids["IMG_0002.JPG"])
    credits.save(store, {"copyright": "CC BY 4.0 Jane Doe"})
    second = publish(publisher, store, ids["IMG_0002.JPG"])
    web = config.folder("web") / "party" / "photos"
    one, two = (Image.open(web / f"{p['name']}.jpg").getexif() for p in (first, second))
    assert (one[0x013B], utf8(one[0x8298])) == ("Jane Doe", "© 2026 Jane Doe")
    assert (two[0x013B], two[0x8298]) == ("Jane Doe", "CC BY 4.0 Jane Doe")
    assert 0x8825 not in one and one.get_ifd(0x8825) == {}  # the card's GPS is gone
    with pytest.raises(credits.CreditsError):
        credits.save(store, {"artist": "line\nbreak"})


# -- outputs ------------------------------------------------------------------------------------------
def test_webp_beside_the_jpeg_is_uploaded_listed_and_trashed(tmp_path):
    config = local_config(tmp_path, PARTY + "[publish]\nwebp = true\nlong_edge = 800\n")
    config.ensure_folders()
    store = Store(config.db_path)
    store.ensure_event("party", "Party")
    card_photo(tmp_path / "card", "IMG_0003.JPG", 70, size=(1200, 800))
    ids = import_card(config, store, tmp_path / "card")
    publisher = Publisher(config, store)
    pub = publish(publisher, store, ids["IMG_0003.JPG"])
    assert (pub["width"], pub["height"], pub["webp"]) == (800, 533, 1)
    entry = check_manifest_matches(config, store)["photos"][0]
    assert entry["webp"] == f"photos/{pub['name']}.webp"
    with Image.open(config.folder("web") / "party" / entry["webp"]) as image:
        assert image.format == "WEBP" and image.size == (800, 533)
    jobs = store.rows("SELECT key, content_type FROM jobs WHERE kind = 'upload' ORDER BY id")
    assert (f"events/party/photos/{pub['name']}.webp", "image/webp") in {
        (j["key"], j["content_type"]) for j in jobs}
    publisher.unpublish(pub["id"])
    assert (config.folder("trash") / "party" / entry["webp"]).is_file()
    assert store.scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'delete' AND key LIKE '%.webp'") == 1


def test_admin_preview_uses_the_same_pipeline(config, store, tmp_path):
    card = tmp_path / "card"
    card_photo(card, "IMG_0004.JPG", 80, size=(3000, 2000), exif=exif_bytes(t0112=6))
    ids = import_card(config, store, card)
    data = preview(config, store, ids["IMG_0004.JPG"], {"rotate": 90, "exposure": 0.5}, edge=1024)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG" and image.size == (1024, 683)
    with pytest.raises(RecipeError):
        preview(config, store, ids["IMG_0004.JPG"], {"rotate": 45})
    with pytest.raises(LookupError):
        preview(config, store, 999, {})


# -- bad input: the worker keeps going, nothing partial is left -----------------------------------------
def test_bad_originals_fail_their_job_and_the_worker_keeps_running(config, store, tmp_path):
    card = tmp_path / "card"
    for i in range(5):
        card_photo(card, f"IMG_{i:04d}.JPG", 90 + i, size=(1200, 800))
    ids = import_card(config, store, card)
    buffer = config.folder("buffer")
    path_of = {name: buffer / store.photo(pid)["buffer_path"] for name, pid in ids.items()}
    data = path_of["IMG_0000.JPG"].read_bytes()
    path_of["IMG_0000.JPG"].write_bytes(data[: len(data) // 2])  # truncated
    path_of["IMG_0001.JPG"].unlink()  # missing from the buffer
    path_of["IMG_0002.JPG"].write_bytes(b"<html>not a photo</html>" * 50)  # not an image
    publisher = Publisher(config, store)
    pub_ids = {name: publisher.request(pid, {}) for name, pid in ids.items()}
    bad_recipe = publisher.request(ids["IMG_0004.JPG"], {})
    store.conn.execute("UPDATE publications SET recipe = '{oops' WHERE id = ?", (bad_recipe,))
    while publisher.run_once():
        pass
    states = {name: store.publication(pid) for name, pid in pub_ids.items()}
    assert "truncated" in states["IMG_0000.JPG"]["error"]
    assert "missing from the buffer" in states["IMG_0001.JPG"]["error"]
    assert "not an image file" in states["IMG_0002.JPG"]["error"]
    assert store.publication(bad_recipe)["state"] == "failed"
    assert states["IMG_0003.JPG"]["state"] == states["IMG_0004.JPG"]["state"] == "published"
    for name in ("IMG_0000.JPG", "IMG_0001.JPG", "IMG_0002.JPG"):
        assert states[name]["state"] == "failed"
    check_manifest_matches(config, store)  # only the two good photos, no partial files
    assert not list(config.folder("web").rglob(f"{TEMP_PREFIX}*"))
    status = store.status()
    assert status["failed"] == 4 and status["published"] == 2


def test_a_restart_cleans_what_a_crash_left_and_rewrites_the_manifest(config, store, tmp_path):
    import os
    import time

    card = tmp_path / "card"
    card_photo(card, "IMG_0100.JPG", 100, size=(600, 400))
    card_photo(card, "IMG_0101.JPG", 101, size=(600, 400))
    ids = import_card(config, store, card)
    crashed = Publisher(config, store)
    done = publish(crashed, store, ids["IMG_0100.JPG"])
    (config.folder("web") / "party" / manifest.MANIFEST_NAME).unlink()  # died before writing it
    # A second publication died mid-way: claimed, its web JPEG written, a temp file left behind.
    pub_id = crashed.request(ids["IMG_0101.JPG"], {})
    store.claim_publication(pub_id)
    name = store.publication(pub_id)["name"]
    photos = config.folder("web") / "party" / "photos"
    (photos / f"{name}.jpg").write_bytes(b"half a jpeg")
    leftover = photos / f"{TEMP_PREFIX}crash"
    leftover.write_bytes(b"partial")
    old = time.time() - 3600
    os.utime(leftover, (old, old))
    (config.folder("buffer") / store.photo(ids["IMG_0101.JPG"])["buffer_path"]).unlink()

    assert store.release_stale_claims(older_than_s=0) == 1  # what `appliance publisher` does first
    restarted = Publisher(config, store)
    while restarted.run_once():
        pass
    failed = store.publication(pub_id)
    assert failed["state"] == "failed" and "missing from the buffer" in failed["error"]
    assert not leftover.exists() and not (photos / f"{name}.jpg").exists()
    data = check_manifest_matches(config, store)
    assert [e["name"] for e in data["photos"]] == [done["name"]]
