"""The outbox against a real moto S3 server over HTTP."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import write_config

from appliance.config import Config, load
from appliance.importer import Importer
from appliance.publisher import Publisher
from appliance.store import Store
from appliance.sync import Syncer


@pytest.fixture
def store(config: Config) -> Store:
    config.ensure_folders()
    s = Store(config.db_path)
    s.ensure_event(config.event.slug, config.event.title)
    return s


def publish_samples(config: Config, store: Store, samples: Path, names: list[str]) -> list[dict]:
    card = config.folder("state").parent / "card-src"
    card.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(samples / "gps" / name, card / name)
    Importer(config, store).import_tree(card)
    publisher = Publisher(config, store)
    pubs = []
    for photo in store.rows("SELECT id FROM photos ORDER BY id"):
        pub_id = publisher.request(photo["id"], {})
        claimed = store.claim_publication(pub_id)
        assert claimed and publisher.process(claimed)
        pubs.append(store.publication(pub_id))
    return pubs


def bucket_manifest(s3, bucket: str, event: str = "wedding") -> dict:  # noqa: ANN001
    body = s3.get_object(Bucket=bucket, Key=f"events/{event}/manifest.json")["Body"].read()
    return json.loads(body)


def bucket_keys(s3, bucket: str) -> set[str]:  # noqa: ANN001
    listing = s3.list_objects_v2(Bucket=bucket)
    return {o["Key"] for o in listing.get("Contents", [])}


def test_upload_with_headers_and_manifest(config, store, s3, bucket, samples):
    pubs = publish_samples(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg"])
    left = Syncer(config, store).drain_once()
    assert left == 0
    names = {p["name"] for p in pubs}
    keys = bucket_keys(s3, bucket)
    for name in names:
        assert f"events/wedding/photos/{name}.jpg" in keys
        assert f"events/wedding/thumbs/{name}.jpg" in keys
    head = s3.head_object(Bucket=bucket, Key=f"events/wedding/photos/{pubs[0]['name']}.jpg")
    assert head["ContentType"] == "image/jpeg"
    assert "immutable" in head["CacheControl"] and "max-age=31536000" in head["CacheControl"]
    local = config.folder("web") / "wedding" / "photos" / f"{pubs[0]['name']}.jpg"
    assert head["ContentLength"] == local.stat().st_size
    manifest = bucket_manifest(s3, bucket)
    assert {p["name"] for p in manifest["photos"]} == names
    mhead = s3.head_object(Bucket=bucket, Key="events/wedding/manifest.json")
    assert mhead["ContentType"] == "application/json"
    assert "max-age=5" in mhead["CacheControl"]
    status = store.status()
    assert status["online"] is True and status["queue"]["jobs"] == 0
    assert status["last_success_at"]


def test_manifest_never_references_missing_objects(config, store, s3, bucket, samples):
    publish_samples(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg", "DSCN0021.jpg"])
    syncer = Syncer(config, store)
    # Run one job at a time and check the bucket after every step.
    while True:
        jobs = syncer.runnable(ignore_backoff=True)
        if not jobs:
            break
        syncer.run_job(jobs[0])
        keys = bucket_keys(s3, bucket)
        if "events/wedding/manifest.json" in keys:
            for photo in bucket_manifest(s3, bucket)["photos"]:
                assert f"events/wedding/{photo['src']}" in keys
                assert f"events/wedding/{photo['thumb']}" in keys
    assert len(bucket_manifest(s3, bucket)["photos"]) == 3


def test_burst_coalesces_manifest_writes(config, store, s3, bucket, samples):
    publish_samples(config, store, samples, sorted(p.name for p in (samples / "gps").glob("*.jpg")))
    manifest_jobs = store.scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'manifest'")
    assert manifest_jobs == 0  # publish alone queues no manifest: only confirmed uploads do
    assert Syncer(config, store).drain_once() == 0
    uploads = store.scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'manifest' AND state='done'")
    assert uploads <= 2
    assert len(bucket_manifest(s3, bucket)["photos"]) == 9


def test_unpublish_manifest_first_then_delete(config, store, s3, bucket, samples):
    pubs = publish_samples(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg"])
    syncer = Syncer(config, store)
    assert syncer.drain_once() == 0
    gone = pubs[0]
    Publisher(config, store).unpublish(gone["id"])
    first = syncer.runnable(ignore_backoff=True)
    assert [j["kind"] for j in first] == ["manifest"], "deletes must wait for the manifest"
    assert syncer.drain_once() == 0
    keys = bucket_keys(s3, bucket)
    assert f"events/wedding/photos/{gone['name']}.jpg" not in keys
    assert f"events/wedding/photos/{pubs[1]['name']}.jpg" in keys
    assert [p["name"] for p in bucket_manifest(s3, bucket)["photos"]] == [pubs[1]["name"]]


def test_offline_keeps_jobs_and_recovers(tmp_path, store, config, s3, bucket, samples, moto_url):
    publish_samples(config, store, samples, ["DSCN0010.jpg"])
    # Same store, but an endpoint where nothing listens.
    dead = load(write_config(tmp_path, "http://127.0.0.1:9", bucket))
    offline = Syncer(dead, store)
    assert offline.drain_once() == 2
    status = store.status()
    assert status["online"] is False
    assert "offline" in status["last_error"]
    job = store.row("SELECT * FROM jobs WHERE kind = 'upload' ORDER BY id LIMIT 1")
    assert job["attempts"] == 1 and job["last_error"].startswith("offline")
    assert job["next_attempt_at"] > 0
    # Back online: the probe makes every job due at once, and the queue drains.
    online = Syncer(config, store)
    assert online.probe() is True
    assert store.scalar("SELECT MAX(next_attempt_at) FROM jobs WHERE state='pending'") == 0
    assert online.drain_once() == 0
    assert len(bucket_manifest(s3, bucket)["photos"]) == 1
