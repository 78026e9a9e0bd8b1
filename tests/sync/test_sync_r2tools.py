"""``appliance r2 list | delete | refresh | verify [--repair]`` against the moto S3 server."""

from __future__ import annotations

import io
import json

import pytest
from support.bucket import assert_gallery_whole, bucket_keys, bucket_manifest
from support.config import write_config
from support.publications import publish_samples

from appliance import cli
from appliance.publish.worker import Publisher
from appliance.sync.syncer import Syncer


@pytest.fixture
def live_gallery(tmp_path, config, store, s3, bucket, samples):  # noqa: ANN201
    """Three photos live in the bucket; returns (config path, store, publications)."""
    pubs = publish_samples(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg", "DSCN0021.jpg"])
    assert Syncer(config, store).drain_once() == 0
    return tmp_path / "appliance.toml", store, pubs


def r2(config_path, *args: str) -> int:  # noqa: ANN001
    return cli.main(["--config", str(config_path), "r2", *args])


def test_list_shows_objects_and_what_they_are(live_gallery, s3, bucket, capsys):
    path, store, pubs = live_gallery
    s3.put_object(Bucket=bucket, Key="events/wedding/stray.txt", Body=b"?")
    s3.put_object(Bucket=bucket, Key="events/other/photos/X.jpg", Body=b"?")  # another event
    assert r2(path, "list", "--json") == 0
    listed = {o["key"]: o["state"] for o in json.loads(capsys.readouterr().out)}
    assert len(listed) == 9  # with this appliance's manifest shard
    assert listed["events/wedding/manifest.json"] == "manifest"
    assert listed[f"events/wedding/manifests/{store.appliance_id()}.json"] == "manifest"
    assert listed[f"events/wedding/photos/{pubs[0]['name']}.jpg"] == "published"
    assert listed["events/wedding/stray.txt"] == "unknown"
    assert r2(path, "list") == 0
    assert "9 object(s)" in capsys.readouterr().out


def test_delete_asks_first_and_protects_the_live_gallery(live_gallery, s3, bucket, capsys, monkeypatch):
    path, store, pubs = live_gallery
    s3.put_object(Bucket=bucket, Key="events/wedding/stray.txt", Body=b"?")
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert r2(path, "delete", "events/wedding/stray.txt") == 1
    assert "events/wedding/stray.txt" in bucket_keys(s3, bucket)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert r2(path, "delete", "events/wedding/stray.txt") == 0
    assert "events/wedding/stray.txt" not in bucket_keys(s3, bucket)
    photo = f"events/wedding/photos/{pubs[0]['name']}.jpg"
    assert r2(path, "delete", photo, "--yes") == 2  # published: unpublish instead
    assert "unpublish" in capsys.readouterr().err
    assert photo in bucket_keys(s3, bucket)
    assert r2(path, "delete", "events/wedding/manifest.json", "--yes") == 2
    assert r2(path, "delete", photo, "--yes", "--force") == 0
    assert photo not in bucket_keys(s3, bucket)
    assert r2(path, "delete", photo, "--yes", "--force") == 1
    assert "no object" in capsys.readouterr().err


def test_refresh_rebuilds_and_uploads_the_manifest(live_gallery, s3, bucket, capsys):
    path, store, pubs = live_gallery
    s3.delete_object(Bucket=bucket, Key="events/wedding/manifest.json")
    store.conn.execute("UPDATE events SET title = 'Anna & Ben, renamed'")
    assert r2(path, "refresh") == 0
    assert "3 photos" in capsys.readouterr().out
    manifest = bucket_manifest(s3, bucket)
    assert manifest["event"]["title"] == "Anna & Ben, renamed"
    assert sorted(p["name"] for p in manifest["photos"]) == sorted(p["name"] for p in pubs)
    assert store.queue_depth()["jobs"] == 0


def test_refresh_offline_leaves_the_manifest_queued(tmp_path, live_gallery, bucket, capsys):
    dead = write_config(tmp_path / "..", "http://127.0.0.1:9", bucket)
    dead.write_text(dead.read_text().replace('data_root = "data"', f'data_root = "{tmp_path}/data"'))
    _, store, _ = live_gallery
    assert cli.main(["--config", str(dead), "r2", "refresh"]) == 3
    assert "queued" in capsys.readouterr().out
    assert store.scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'manifest' AND state = 'pending'") == 1


def test_verify_finds_every_kind_of_drift_and_repair_fixes_what_is_ours(
        live_gallery, config, s3, bucket, capsys):
    path, store, pubs = live_gallery
    assert r2(path, "verify") == 0
    assert "the bucket equals the store" in capsys.readouterr().out
    # Drift: a published photo lost, a thumbnail corrupted, a stranger's object, and an
    # unpublished photo whose object came back (e.g. an old client's late upload).
    lost = f"events/wedding/photos/{pubs[0]['name']}.jpg"
    corrupt = f"events/wedding/thumbs/{pubs[1]['name']}.jpg"
    s3.delete_object(Bucket=bucket, Key=lost)
    s3.put_object(Bucket=bucket, Key=corrupt, Body=b"not a jpeg")
    s3.put_object(Bucket=bucket, Key="events/wedding/photos/STRANGER.jpg", Body=b"x")
    Publisher(config, store).unpublish(pubs[2]["id"])
    assert Syncer(config, store).drain_once() == 0
    ghost = f"events/wedding/photos/{pubs[2]['name']}.jpg"
    s3.put_object(Bucket=bucket, Key=ghost, Body=b"late")
    assert r2(path, "verify", "--json") == 1
    report = json.loads(capsys.readouterr().out)[0]
    assert not report["equal"]
    assert [m["key"] for m in report["missing"]] == [lost]
    assert [m["key"] for m in report["mismatched"]] == [corrupt]
    extras = {e["key"]: e["deletable"] for e in report["extra"]}
    assert extras == {"events/wedding/photos/STRANGER.jpg": False, ghost: True}
    assert any(f"references missing object {lost}" in p for p in report["manifest"])

    assert r2(path, "verify", "--repair") == 1
    out = capsys.readouterr().out
    assert f"queued      upload {lost}" in out and f"queued      delete {ghost}" in out
    assert "not fixed   events/wedding/photos/STRANGER.jpg" in out
    assert store.publication(pubs[0]["id"])["live_at"] is None  # out of the manifest until back
    syncer = Syncer(config, store)
    assert syncer.drain_once() == 0
    assert_gallery_whole(s3, bucket)
    assert r2(path, "verify") == 1  # the stranger's object stays: safe mode
    assert "extra       events/wedding/photos/STRANGER.jpg (unknown)" in capsys.readouterr().out
    assert r2(path, "delete", "events/wedding/photos/STRANGER.jpg", "--yes") == 0
    assert r2(path, "verify") == 0
    assert sorted(assert_gallery_whole(s3, bucket)) == sorted([pubs[0]["name"], pubs[1]["name"]])


def test_verify_all_events(live_gallery, config, s3, bucket, samples, capsys):
    path, store, pubs = live_gallery
    party = store.ensure_event("party", "After party")
    store.set_setting("current_event_id", party)
    publish_samples(config, store, samples, ["DSCN0025.jpg"])
    assert r2(path, "verify", "--all") == 1  # the party's photo is not uploaded yet
    out = capsys.readouterr().out
    assert "wedding (events/wedding/)" in out and "equals" in out.split("\n")[0]
    assert "missing     events/party/photos/" in out and "job(s) still queued" in out
    assert Syncer(config, store).drain_once() == 0
    assert r2(path, "verify", "--all") == 0
    assert r2(path, "verify", "--event", "nope") == 2
