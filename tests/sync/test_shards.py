"""Several appliances in one event against one (moto) bucket: each writes its own shard and its own
objects under names that cannot collide; delete all, verify and repair touch only one's own."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.bucket import bucket_keys
from support.team import LocalAppliance

from appliance.dev.gallery_server import create_app
from appliance.store.shards import ID_RE
from appliance.sync import joincode, peers, r2tools, team
from appliance.sync.clock import BucketClock, offset_from
from appliance.sync.syncer import Syncer

PASS = "correct horse battery"
SAME_FILES = ["DSCN0010.jpg", "DSCN0012.jpg"]  # both photographers' cameras use these names


class Appliance(LocalAppliance):
    def shard(self, s3: Any, bucket: str) -> dict[str, Any]:
        key = f"events/wedding/manifests/{self.id}.json"
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


@pytest.fixture
def pair(tmp_path: Path, moto_url: str, bucket: str, samples: Path) -> Iterator[tuple[Appliance, Appliance]]:
    """Appliance A made the event and shared it; appliance B joined with the code."""
    a = Appliance(tmp_path / "a", moto_url, bucket, samples)
    b = Appliance(tmp_path / "b", moto_url, bucket, samples)
    b.store.conn.execute("DELETE FROM events")  # B starts without the event: it comes with the code
    b.store.set_setting("current_event_id", None)
    code = team.share(a.config, a.store, a.store.current_event(), PASS)
    joined = team.join(b.config, b.store, code, PASS)
    assert joined.slug == "wedding" and joined.bucket_matches
    yield a, b
    a.close()
    b.close()


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_ids_are_stable_and_distinct(pair: tuple[Appliance, Appliance]) -> None:
    a, b = pair
    assert ID_RE.match(a.id) and ID_RE.match(b.id) and a.id != b.id
    assert a.store.appliance_id() == a.id
    assert a.store.status()["appliance_id"] == a.id


def test_same_file_names_never_collide_and_each_writes_only_its_shard(pair, s3, bucket) -> None:
    a, b = pair
    pubs_a, pubs_b = a.publish(SAME_FILES), b.publish(SAME_FILES)
    a.sync()
    b.sync()
    assert {p["name"] for p in pubs_a} == {f"{a.id}.DSCN0010", f"{a.id}.DSCN0012"}
    assert {p["name"] for p in pubs_b} == {f"{b.id}.DSCN0010", f"{b.id}.DSCN0012"}
    # A second publish of the same photo: versioned per source as before.
    again = b.publish(["DSCN0010.jpg"])
    b.sync()
    assert again[0]["name"] == f"{b.id}.DSCN0010_002"
    # Every object in the bucket is exactly what its own appliance uploaded (none overwritten).
    for app in (a, b):
        for row in app.store.rows("SELECT key, path FROM jobs WHERE kind = 'upload'"):
            head = s3.head_object(Bucket=bucket, Key=row["key"])
            assert head["ETag"].strip('"') == md5(Path(row["path"])), row["key"]
    shard_a, shard_b = a.shard(s3, bucket), b.shard(s3, bucket)
    assert {p["name"] for p in shard_a["photos"]} == {p["name"] for p in pubs_a}
    assert {p["name"] for p in shard_b["photos"]} == {p["name"] for p in pubs_b + again}
    assert shard_a["appliance"] == {"id": a.id, "shared": True, "owner": True}
    assert shard_b["appliance"] == {"id": b.id, "shared": True, "owner": False}
    # Shared: neither writes the single manifest.json that the other would overwrite.
    assert "events/wedding/manifest.json" not in bucket_keys(s3, bucket, "events/wedding/")


def test_delete_all_leaves_the_other_appliances_objects(pair, s3, bucket) -> None:
    a, b = pair
    a.publish(SAME_FILES)
    b.publish(SAME_FILES)
    a.sync()
    b.sync()
    before = bucket_keys(s3, bucket, "events/wedding/")
    assert team.delete_all(b.config, b.store, b.store.current_event()["id"]) == 2
    b.sync()
    after = bucket_keys(s3, bucket, "events/wedding/")
    gone = before - after
    assert gone and all(f"/{b.id}." in key for key in gone), gone
    assert {k for k in before if f"/{a.id}." in k or a.id in k} <= after
    assert b.shard(s3, bucket)["photos"] == []
    assert len(a.shard(s3, bucket)["photos"]) == 2


def test_verify_and_repair_act_only_on_own_objects(pair, s3, bucket) -> None:
    a, b = pair
    a.publish(SAME_FILES)
    b.publish(SAME_FILES)
    a.sync()
    b.sync()
    event = a.store.current_event()
    report = r2tools.verify(a.config, a.store, s3, event, repair=True)
    assert report.equal, report.to_dict()
    assert report.queued == [] and report.unrepairable == []
    assert report.objects == 2 * 2 + 1  # A's photos and thumbnails, A's shard: B's are not A's business
    # A's photo deleted behind its back: repair re-uploads A's, never touches B's.
    s3.delete_object(Bucket=bucket, Key=f"events/wedding/photos/{a.id}.DSCN0010.jpg")
    report = r2tools.verify(a.config, a.store, s3, event, repair=True)
    assert [m["key"] for m in report.missing] == [f"events/wedding/photos/{a.id}.DSCN0010.jpg"]
    assert all(b.id not in q for q in report.queued)


def test_owner_removes_another_appliances_shard_on_purpose(pair, s3, bucket, caplog) -> None:
    a, b = pair
    a.publish(SAME_FILES)
    b.publish(SAME_FILES)
    a.sync()
    b.sync()
    event = a.store.current_event()
    assert set(peers.shards(a.config, s3, event)) == {a.id, b.id}
    with pytest.raises(ValueError, match="own shard"):
        peers.remove_shard(a.config, a.store, s3, event, a.id)
    deleted = peers.remove_shard(a.config, a.store, s3, event, b.id, with_objects=True)
    assert deleted[0] == f"events/wedding/manifests/{b.id}.json" and len(deleted) == 5
    assert not any(b.id in k for k in bucket_keys(s3, bucket, "events/wedding/"))
    assert len(a.shard(s3, bucket)["photos"]) == 2
    assert f"removed appliance {b.id}'s shard" in caplog.text


def test_join_code_needs_the_passphrase(pair) -> None:
    a, _ = pair
    code = team.share(a.config, a.store, a.store.current_event(), PASS)
    assert "test" not in code and "wedding" not in code  # nothing readable without the passphrase
    with pytest.raises(joincode.JoinCodeError, match="wrong passphrase"):
        joincode.open_code(code, "not the passphrase")
    with pytest.raises(joincode.JoinCodeError, match="changed"):
        joincode.open_code(code[:-3] + ("AAA" if code[-3:] != "AAA" else "BBB"), PASS)
    with pytest.raises(joincode.JoinCodeError, match="not a join code"):
        joincode.open_code("hello", PASS)
    offer = joincode.open_code(code, PASS)
    assert offer.bucket["bucket"] == a.config.bucket.bucket and offer.bucket["secret"] == "test"


def test_sharing_later_keeps_the_old_names_and_verify_stays_quiet(tmp_path, moto_url, bucket, s3,
                                                                 samples) -> None:
    solo = Appliance(tmp_path / "solo", moto_url, bucket, samples)
    first = solo.publish(["DSCN0010.jpg"])
    solo.sync()
    team.share(solo.config, solo.store, solo.store.current_event(), PASS)
    later = solo.publish(["DSCN0012.jpg"])
    solo.sync()
    assert [first[0]["name"], later[0]["name"]] == ["DSCN0010", f"{solo.id}.DSCN0012"]
    assert {p["name"] for p in solo.shard(s3, bucket)["photos"]} == {"DSCN0010", f"{solo.id}.DSCN0012"}
    report = r2tools.verify(solo.config, solo.store, s3, solo.store.current_event())
    assert report.equal and report.extra == [], report.to_dict()  # the old manifest.json is not news
    solo.close()


def test_single_appliance_event_keeps_its_manifest_and_names(tmp_path, moto_url, bucket, s3, samples) -> None:
    solo = Appliance(tmp_path / "solo", moto_url, bucket, samples)
    pubs = solo.publish(["DSCN0010.jpg"])
    solo.sync()
    assert pubs[0]["name"] == "DSCN0010"  # untagged, as before
    keys = bucket_keys(s3, bucket, "events/wedding/")
    assert {"events/wedding/manifest.json", f"events/wedding/manifests/{solo.id}.json"} <= keys
    legacy = s3.get_object(Bucket=bucket, Key="events/wedding/manifest.json")["Body"].read()
    assert json.loads(legacy) == solo.shard(s3, bucket)
    solo.store.close()


def test_clock_offset_and_camera_offset_reach_the_shard(pair, s3, bucket) -> None:
    a, _ = pair
    assert offset_from("Mon, 07 Dec 2026 10:00:00 GMT", 1796637600.0 - 30) == pytest.approx(30.5)
    assert offset_from("garbage", 0.0) is None
    a.publish(["DSCN0010.jpg"])
    photo = a.store.row("SELECT camera_make, camera_model FROM photos")
    from appliance.store.shards import camera_label
    a.store.set_camera_offset(camera_label(photo["camera_make"], photo["camera_model"]), 120)
    syncer = Syncer(a.config, a.store)
    assert syncer.drain_once() == 0
    syncer.drain_once()  # the next manifest carries the offset measured from the first answers
    assert isinstance(syncer.clock, BucketClock) and syncer.clock.offset() is not None
    assert abs(syncer.clock.offset()) < 5  # moto runs on this machine's clock
    a.store.enqueue_manifest(a.store.current_event()["id"], "events/wedding/manifests/x.json")
    syncer.drain_once()
    shard = a.shard(s3, bucket)
    assert shard["photos"][0]["skew"] == -120
    assert shard["clock"]["offset_s"] == a.store.get_setting("clock.bucket_offset_s")


def test_local_gallery_bundles_the_shards(pair, s3, bucket) -> None:
    a, b = pair
    a.publish(["DSCN0010.jpg"])
    b.publish(["DSCN0012.jpg"])
    a.sync()
    b.sync()
    client = create_app(a.config, s3).test_client()
    res = client.get("/photo/wedding/manifest.json")
    assert res.status_code == 200
    body = res.get_json()
    assert body["version"] == 2
    assert sorted(s["appliance"]["id"] for s in body["shards"]) == sorted([a.id, b.id])
    again = client.get("/photo/wedding/manifest.json", headers={"If-None-Match": res.headers["ETag"]})
    assert again.status_code == 304
    photo = client.get(f"/photo/wedding/photos/{b.id}.DSCN0012.jpg")
    assert photo.status_code == 200 and photo.data[:2] == b"\xff\xd8"
