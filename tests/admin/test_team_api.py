"""The admin's team API: this appliance's id, a join code that another appliance opens with the
passphrase, camera clock offsets, delete all of its own photos, removing another appliance's shard."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.bucket import bucket_keys
from support.sessions import login
from support.team import LocalAppliance

from appliance.admin import create_app
from appliance.config import Config
from appliance.store import Store

PASS = "correct horse battery"


def client_of(config: Config):  # noqa: ANN201
    app = create_app(config)
    app.config["TESTING"] = True
    client = app.test_client()
    client.environ_base["HTTP_X_CSRFTOKEN"] = login(client)
    return client


@pytest.fixture
def other(tmp_path: Path, moto_url: str, bucket: str, samples: Path):  # noqa: ANN201
    app = LocalAppliance(tmp_path / "other", moto_url, bucket, samples)
    yield app
    app.close()


def test_share_join_offsets_delete_all_and_remove(config, store: Store, other, s3, bucket, samples):
    me = LocalAppliance.__new__(LocalAppliance)
    me.config, me.store, me.id, me.samples = config, store, store.appliance_id(), samples
    ours, theirs = client_of(config), client_of(other.config)
    team = ours.get("/api/team").get_json()
    assert team["appliance_id"] == store.appliance_id() and team["shared"] is False
    assert ours.post("/api/team/share", json={"passphrase": "short"}).status_code == 400
    shared = ours.post("/api/team/share", json={"passphrase": PASS}).get_json()
    assert shared["code"].startswith("J1.") and shared["qr_svg"].startswith("<svg")
    assert shared["shared"] is True and shared["owner"] is True
    wrong = theirs.post("/api/team/join", json={"code": shared["code"], "passphrase": "not it at all"})
    assert wrong.status_code == 400 and "wrong passphrase" in wrong.get_json()["error"]
    joined = theirs.post("/api/team/join", json={"code": shared["code"], "passphrase": PASS}).get_json()
    assert joined["slug"] == "wedding" and joined["bucket_matches"] is True and joined["owner"] is False

    me.publish(["DSCN0010.jpg"])
    other.publish(["DSCN0010.jpg"])
    me.sync()
    other.sync()
    camera = ours.get("/api/team").get_json()["cameras"][0]
    answer = ours.put("/api/team/camera-offset", json={"camera": camera, "fast_by_s": 120})
    assert answer.get_json()["camera_offsets"] == {camera: 120.0}

    # Delete all needs the event's name typed; it takes only this appliance's photos.
    assert theirs.post("/api/team/delete-all", json={"confirm": "nope"}).status_code == 400
    assert theirs.post("/api/team/delete-all", json={"confirm": "wedding"}).get_json() == {"unpublished": 1}
    other.sync()
    keys = bucket_keys(s3, bucket, "events/wedding/photos/")
    assert keys == {f"events/wedding/photos/{me.id}.DSCN0010.jpg"}

    # Only the owner removes another appliance's shard, with its id typed twice.
    refused = theirs.post("/api/team/remove-shard", json={"id": me.id, "confirm": me.id})
    assert refused.status_code == 403
    assert ours.post("/api/team/remove-shard", json={"id": other.id, "confirm": "x"}).status_code == 400
    removed = ours.post("/api/team/remove-shard", json={"id": other.id, "confirm": other.id})
    assert removed.get_json() == {"deleted": 1}
    assert not any(other.id in k for k in bucket_keys(s3, bucket, "events/wedding/"))


def test_owner_takes_over_another_appliances_shard_and_unpublishes_its_photos(config, store: Store, other,
                                                                               s3, bucket, samples):
    me = LocalAppliance.__new__(LocalAppliance)
    me.config, me.store, me.id, me.samples = config, store, store.appliance_id(), samples
    ours, theirs = client_of(config), client_of(other.config)
    code = ours.post("/api/team/share", json={"passphrase": PASS}).get_json()["code"]
    theirs.post("/api/team/join", json={"code": code, "passphrase": PASS})
    me.publish(["DSCN0010.jpg"])
    other.publish(["DSCN0010.jpg", "DSCN0012.jpg"])
    me.sync()
    other.sync()

    # Only the owner, with the id sent twice, never its own shard.
    assert theirs.post("/api/team/take-over", json={"id": me.id, "confirm": me.id}).status_code == 403
    assert ours.post("/api/team/take-over", json={"id": other.id, "confirm": "x"}).status_code == 400
    own = ours.post("/api/team/take-over", json={"id": me.id, "confirm": me.id})
    assert own.status_code == 400 and "own shard" in own.get_json()["error"]
    taken = ours.post("/api/team/take-over", json={"id": other.id, "confirm": other.id}).get_json()
    assert taken["taken_over"] == 2 and taken["source"] == other.id
    assert [(t["source_id"], t["live"]) for t in taken["takeovers"]] == [(other.id, 2)]
    assert sorted(a["name"] for a in taken["adopted"]) == [f"{other.id}.DSCN0010", f"{other.id}.DSCN0012"]
    entry = store.audit_log(limit=1)[0]
    assert entry["action"] == "team.take_over" and entry["detail"]["id"] == other.id
    me.sync()
    assert f"events/wedding/manifests/{other.id}.json" not in bucket_keys(s3, bucket, "events/wedding/")

    # Unpublish one adopted photo by id, then the rest of that appliance's by its id.
    first = next(a for a in taken["adopted"] if a["name"].endswith("DSCN0010"))
    assert ours.post("/api/team/unpublish-adopted", json={}).status_code == 400
    done = ours.post("/api/team/unpublish-adopted", json={"adopted": [first["id"]]}).get_json()
    assert done["unpublished"] == 1 and [a["name"] for a in done["adopted"]] == [f"{other.id}.DSCN0012"]
    assert ours.post("/api/team/unpublish-adopted", json={"adopted": [first["id"]]}).status_code == 404
    rest = ours.post("/api/team/unpublish-adopted", json={"source": other.id}).get_json()
    assert rest["unpublished"] == 1 and rest["adopted"] == [] and rest["takeovers"][0]["live"] == 0
    me.sync()
    photos = bucket_keys(s3, bucket, "events/wedding/photos/")
    assert photos == {f"events/wedding/photos/{me.id}.DSCN0010.jpg"}
