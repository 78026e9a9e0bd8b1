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
