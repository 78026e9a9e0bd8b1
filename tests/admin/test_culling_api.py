"""Culling through the admin's JSON API (Flask test client, real store, real importer, real publish
worker and syncer against the moto bucket): filters, ratings, flags, batches and their progress,
drafts, delete with undo and purge."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from support.images import exif_bytes, marked_pattern, save_jpeg
from support.sessions import csrf_token, login

from appliance.admin import housekeeping
from appliance.config import Config
from appliance.ingest.importer import Importer
from appliance.publish.worker import Publisher
from appliance.store import Store
from appliance.sync.syncer import Syncer


def frame(card: Path, name: str, seed: int) -> Path:
    """A small distinct camera JPEG taken at 12:<seed>:00."""
    image = marked_pattern((480, 320))
    rng = random.Random(seed)
    image.paste(tuple(rng.randrange(256) for _ in range(3)), (160, 100, 240, 160))
    exif = exif_bytes(t010f="Canon", t0110="EOS R6", sub={0x9003: f"2026:06:14 12:{seed:02d}:00"})
    return save_jpeg(card / name, image, exif=exif)


@pytest.fixture
def photos(config: Config, store: Store, tmp_path: Path) -> list[int]:
    """Five photos from a card, newest first (IMG_0005 ... IMG_0001)."""
    card = tmp_path / "card"
    for n in range(1, 6):
        frame(card, f"IMG_{n:04d}.JPG", n)
    Importer(config, store).import_tree(card)
    return [r["id"] for r in store.rows("SELECT id FROM photos ORDER BY capture_time DESC")]


def drain(config: Config, store: Store) -> None:
    """The publish worker renders everything queued, then the syncer uploads it."""
    publisher = Publisher(config, store)
    while publisher.run_once():
        pass
    syncer = Syncer(config, store)
    try:
        assert syncer.drain_once() == 0
    finally:
        syncer.close()


def test_culling_routes_need_login_and_csrf(client, photos) -> None:
    posts = [("/api/rate", {"ids": photos, "rating": 3}), ("/api/flag", {"ids": photos, "flag": "pick"}),
             ("/api/batch", {"action": "rate", "ids": photos, "value": 1}), ("/api/batch/1/undo", {})]
    token = csrf_token(client.get("/login").get_data(as_text=True))  # so the login check refuses
    for path, data in posts:
        assert client.post(path, json=data, headers={"X-CSRFToken": token}).status_code == 401
    for path in ("/api/buffer/ids", "/api/batch/1", f"/api/photos/{photos[0]}/draft"):
        assert client.get(path).status_code == 401
    login(client)  # no X-CSRFToken header
    for path, data in posts:
        res = client.post(path, json=data)
        assert res.status_code == 400 and "CSRF" in res.get_json()["error"]
    assert client.get("/api/buffer?rating=0&flag=unflagged").status_code == 200


def test_buffer_filters_fields_sources_and_bad_values(authed, photos) -> None:
    assert authed.post("/api/rate", json={"ids": photos[:2], "rating": 4}).get_json() == {
        "ok": True, "updated": 2}
    assert authed.post("/api/flag", json={"ids": [photos[0]], "flag": "pick"}).get_json()["updated"] == 1
    assert authed.post("/api/flag", json={"ids": [photos[4]], "flag": "reject"}).status_code == 200
    page = authed.get("/api/buffer?rating=3").get_json()
    assert [p["id"] for p in page["photos"]] == photos[:2] and page["total"] == 2
    first = page["photos"][0]
    assert (first["rating"], first["flag"], first["protected"]) == (4, "picked", False)
    assert first["source"]["kind"] == "other"  # imported from a folder by hand
    assert page["sources"] == [{"kind": "other", "name": first["source"]["name"],
                                "label": f"Imported · {first['source']['name']}", "count": 5}]
    assert [p["id"] for p in authed.get("/api/buffer?flag=rejected").get_json()["photos"]] == [photos[4]]
    unflagged = authed.get("/api/buffer?flag=unflagged&sort=import").get_json()
    assert sorted(p["id"] for p in unflagged["photos"]) == sorted(photos[1:4]) and unflagged["total"] == 3
    window = authed.get("/api/buffer?from=2026-06-14T12:02&to=2026-06-14T12:04:00").get_json()
    assert [p["id"] for p in window["photos"]] == [photos[2], photos[3]]  # 12:03, 12:02
    assert authed.get("/api/buffer?source=other").get_json()["total"] == 5
    assert authed.get("/api/buffer?source=ftp:camera-a").get_json()["total"] == 0
    everything = authed.get("/api/buffer/ids?state=unpublished").get_json()
    assert everything == {"ids": photos, "total": 5}
    for query, message in (("filter=odd", "filter must be one of"), ("rating=6", "rating must be"),
                           ("rating=-1", "rating must be"), ("rating=x", "rating must be"),
                           ("flag=maybe", "flag must be one of"), ("state=x", "state must be one of"),
                           ("source=usb", "source must be one of"), ("from=yesterday", "ISO 8601"),
                           ("sort=name", "sort must be one of"), ("from=2026-06-15&to=2026-06-14",
                                                                  "from must be before to")):
        for path in ("/api/buffer", "/api/buffer/ids"):
            res = authed.get(f"{path}?{query}")
            assert res.status_code == 400 and message in res.get_json()["error"], (path, query)


def test_rate_and_flag_refuse_bad_input(authed, photos) -> None:
    bad = [({"ids": photos, "rating": r}, "rating must be") for r in (6, -1, "x", True, None, 2.5)]
    bad += [
        ({"ids": [], "rating": 1}, "non-empty list"), ({"ids": "1", "rating": 1}, "non-empty list"),
        ({"ids": [1.5], "rating": 1}, "whole number"), ({"ids": [0], "rating": 1}, "from 1"),
        ({"ids": [True], "rating": 1}, "each id must be"), ({"ids": ["3"], "rating": 1}, "each id must be"),
        ({"ids": list(range(1, 10002)), "rating": 1}, "at most 10000"),
        ({"ids": photos, "rating": 1, "x": 1}, "unknown field")]
    for data, message in bad:
        res = authed.post("/api/rate", json=data)
        assert res.status_code == 400 and message in res.get_json()["error"], data
    res = authed.post("/api/flag", json={"ids": photos, "flag": "picked"})
    assert res.status_code == 400 and "flag must be one of pick, reject, none" in res.get_json()["error"]
    assert authed.post("/api/rate", json={"ids": [9998, 9999], "rating": 2}).get_json()["updated"] == 0
    assert authed.post("/api/rate", json={"ids": list(range(1, 10001)), "rating": 2}).get_json()[
        "updated"] == 5
    assert all(p["rating"] == 2 for p in authed.get("/api/buffer").get_json()["photos"])


def test_batch_publish_reaches_live_with_per_photo_failures(authed, config, store, photos) -> None:
    broken = store.photo(photos[1])
    (config.folder("buffer") / broken["buffer_path"]).write_bytes(b"\xff\xd8 not a JPEG any more")
    res = authed.post("/api/batch", json={"action": "publish", "ids": [*photos, 4242]})
    assert res.status_code == 202
    answer = res.get_json()
    assert answer["action"] == "publish" and answer["total"] == 6
    assert [r["ok"] for r in answer["results"]] == [True] * 5 + [False]
    assert answer["results"][5] == {"id": 4242, "ok": False, "error": "no such photo in the buffer"}
    progress = authed.get(f"/api/batch/{answer['batch']}").get_json()
    assert progress["done"] is False and progress["counts"]["queued"] == 5
    drain(config, store)
    progress = authed.get(f"/api/batch/{answer['batch']}").get_json()
    assert progress["done"] is True
    assert progress["counts"] | {"done": 0} == {"queued": 0, "processing": 0, "published": 0, "live": 4,
                                                "failed": 2, "done": 0}
    failed = {f["id"]: f for f in progress["failed"]}
    assert set(failed) == {photos[1], 4242}
    assert failed[photos[1]]["name"] == "IMG_0004.JPG" and failed[photos[1]]["error"]
    again = authed.post("/api/batch", json={"action": "publish", "ids": [photos[0]]}).get_json()
    assert again["results"] == [{"id": photos[0], "ok": False, "error": "already published or publishing"}]
    assert authed.get("/api/batch/9999").status_code == 404


def test_batch_unpublish_rate_flag_and_query(authed, config, store, photos) -> None:
    authed.post("/api/batch", json={"action": "publish", "ids": photos[:3]})
    drain(config, store)
    res = authed.post("/api/batch", json={"action": "unpublish", "ids": [photos[0], photos[4]]})
    assert res.status_code == 202
    pub_id = store.latest_publications([photos[0]])[photos[0]]["id"]
    assert store.publication(pub_id)["state"] == "unpublished"
    assert res.get_json()["results"] == [
        {"id": photos[0], "ok": True, "publication_id": pub_id},
        {"id": photos[4], "ok": False, "error": "not published"}]
    assert authed.get("/api/buffer?state=published").get_json()["total"] == 2
    rated = authed.post("/api/batch", json={"action": "rate", "query": {"state": "published"}, "value": 5})
    assert sorted(r["id"] for r in rated.get_json()["results"]) == sorted(photos[1:3])
    assert authed.get("/api/buffer/ids?rating=5").get_json()["ids"] == photos[1:3]
    flagged = authed.post("/api/batch", json={"action": "flag", "ids": photos, "value": "reject"})
    assert authed.get(f"/api/batch/{flagged.get_json()['batch']}").get_json()["done"] is True
    assert authed.get("/api/buffer?flag=rejected").get_json()["total"] == 5
    for data, message in (({"action": "rate", "ids": photos, "value": 9}, "rating must be"),
                          ({"action": "flag", "ids": photos, "value": "yes"}, "flag must be"),
                          ({"action": "zap", "ids": photos}, "action must be one of"),
                          ({"action": "rate", "value": 1}, "either ids or query"),
                          ({"action": "rate", "ids": photos, "query": {}, "value": 1}, "either ids or query"),
                          ({"action": "rate", "query": {"rating": "x"}, "value": 1}, "rating must be"),
                          ({"action": "rate", "query": {"source": "ftp:x"}, "value": 1}, "no photo matches"),
                          ({"action": "edit", "ids": photos, "value": {"exposure": 99}}, "exposure"),
                          ({"action": "publish", "ids": photos, "value": "bright"}, "edit object")):
        res = authed.post("/api/batch", json=data)
        assert res.status_code == 400 and message in res.get_json()["error"], data


def test_batch_edit_saves_drafts_that_publish_uses(authed, config, store, photos) -> None:
    edit = {"exposure": 0.5, "rotate": 90}
    res = authed.post("/api/batch", json={"action": "edit", "ids": photos[:2], "value": edit})
    assert res.status_code == 202
    draft = authed.get(f"/api/photos/{photos[0]}/draft").get_json()
    assert draft["id"] == photos[0] and draft["recipe"]["exposure"] == 0.5 and draft["recipe"]["rotate"] == 90
    assert authed.get(f"/api/photos/{photos[2]}/draft").get_json()["recipe"] == {}
    assert authed.get("/api/photos/9999/draft").status_code == 404
    single = authed.post("/api/publish", json={"id": photos[0]}).get_json()  # no recipe: the draft
    assert '"rotate": 90' in store.publication(single["id"])["recipe"]
    plain = authed.post("/api/publish", json={"id": photos[2], "recipe": {}}).get_json()
    assert '"rotate": 0' in store.publication(plain["id"])["recipe"]
    batch = authed.post("/api/batch", json={"action": "publish", "ids": [photos[1]]}).get_json()
    assert '"exposure": 0.5' in store.publication(batch["results"][0]["publication_id"])["recipe"]
    drain(config, store)
    assert authed.get(f"/api/batch/{batch['batch']}").get_json()["counts"]["live"] == 1


def test_delete_undo_and_purge(authed, config, store, photos, monkeypatch) -> None:
    authed.post("/api/batch", json={"action": "publish", "ids": [photos[0]]})
    files = {p: (config.folder("buffer") / store.photo(p)["buffer_path"],
                 config.folder("state") / "thumbs" / store.photo(p)["thumb_path"]) for p in photos}
    res = authed.post("/api/batch", json={"action": "delete", "ids": photos[:3]})
    answer = res.get_json()
    assert res.status_code == 202 and answer["undo_seconds"] == 10
    assert answer["results"][0] == {"id": photos[0], "ok": False,
                                    "error": "published or publishing: unpublish it first"}
    assert [r["ok"] for r in answer["results"]] == [False, True, True]
    buffer = authed.get("/api/buffer").get_json()
    assert [p["id"] for p in buffer["photos"]] == [photos[0], *photos[3:]]
    assert buffer["total"] == 3 and buffer["counts"]["all"] == 3 and buffer["sources"][0]["count"] == 3
    assert authed.get("/api/status").get_json()["buffer"] == 3
    assert authed.get(f"/thumbs/{photos[1]}").status_code == 404
    undo = authed.post(f"/api/batch/{answer['batch']}/undo")
    assert undo.get_json() == {"ok": True, "restored": 2}
    assert authed.get("/api/buffer").get_json()["total"] == 5
    assert authed.post(f"/api/batch/{answer['batch']}/undo").status_code == 409  # once only
    second = authed.post("/api/batch", json={"action": "delete", "ids": photos[3:]}).get_json()
    monkeypatch.setattr(housekeeping, "UNDO_SECONDS", 0.0)  # the window is over
    res = authed.post(f"/api/batch/{second['batch']}/undo")
    assert res.status_code == 409 and "too late" in res.get_json()["error"]
    assert all(path.exists() for p in photos[3:] for path in files[p])
    authed.get("/api/status")  # the status poll purges what is past its window
    assert not any(path.exists() for p in photos[3:] for path in files[p])
    assert all(path.exists() for p in photos[:3] for path in files[p])
    assert authed.get("/api/buffer").get_json()["total"] == 3
    rated = authed.post("/api/batch", json={"action": "rate", "ids": [photos[0]], "value": 2}).get_json()
    assert authed.post(f"/api/batch/{rated['batch']}/undo").status_code == 409
    assert authed.post("/api/batch/9999/undo").status_code == 404


def test_purge_keeps_a_buffer_file_another_photo_points_at(authed, config, store, photos) -> None:
    original = store.photo(photos[0])
    twin, _ = store.add_photo(sha256="f" * 64, original_name="TWIN.JPG", buffer_path=original["buffer_path"],
                              size=original["size"], thumb_path=original["thumb_path"])
    answer = authed.post("/api/batch", json={"action": "delete", "ids": [photos[0]]}).get_json()
    assert answer["results"] == [{"id": photos[0], "ok": True}]
    assert housekeeping.purge_deleted(config, store, window_s=0) == 1
    assert (config.folder("buffer") / original["buffer_path"]).is_file()  # the twin still needs it
    assert (config.folder("state") / "thumbs" / original["thumb_path"]).is_file()
    assert authed.get(f"/thumbs/{twin}").status_code == 200
    assert store.photo(twin) is not None and store.photo(photos[0]) is None
    assert housekeeping.purge_deleted(config, store, window_s=0) == 0  # purged once
