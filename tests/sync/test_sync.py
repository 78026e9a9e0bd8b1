"""The outbox against a real moto S3 server over HTTP (and a recording proxy in front of it)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace

import pytest
from support.bucket import assert_gallery_whole, bucket_keys, bucket_manifest
from support.config import bucket_config, write_config
from support.polling import wait_for
from support.publications import import_samples, publish_many, publish_samples
from support.services import SyncThread

from appliance import cli
from appliance.config import parse
from appliance.device import gpio
from appliance.publish.worker import Publisher
from appliance.sync import bucket as bucket_mod
from appliance.sync.syncer import MANIFEST_MIN_INTERVAL_S, Syncer


def step_through(syncer: Syncer, after_each) -> int:  # noqa: ANN001
    """Run jobs one at a time in the sync's order (waiting out the manifest interval)."""
    steps = 0
    while True:
        jobs = syncer.runnable(ignore_backoff=True)
        if not jobs:
            if not syncer.store.queue_depth()["jobs"]:
                return steps
            time.sleep(0.1)  # a manifest waiting for its one-write-a-second slot
            continue
        syncer.run_job(jobs[0])
        steps += 1
        after_each()


def test_upload_with_headers_and_manifest(tmp_path, store, s3, bucket, samples, proxy):
    config = bucket_config(tmp_path, proxy.url, bucket)
    pubs = publish_samples(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg"])
    syncer = Syncer(config, store)
    assert syncer.drain_once() == 0
    names = {p["name"] for p in pubs}
    keys = bucket_keys(s3, bucket)
    for name in names:
        assert f"events/wedding/photos/{name}.jpg" in keys
        assert f"events/wedding/thumbs/{name}.jpg" in keys
    key = f"events/wedding/photos/{pubs[0]['name']}.jpg"
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentType"] == "image/jpeg"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    local = (config.folder("web") / "wedding" / "photos" / f"{pubs[0]['name']}.jpg").read_bytes()
    assert head["ContentLength"] == len(local)
    assert head["ETag"].strip('"') == hashlib.md5(local).hexdigest()
    assert store.scalar("SELECT etag FROM jobs WHERE key = ?", (key,)) == hashlib.md5(local).hexdigest()
    assert {p["name"] for p in bucket_manifest(s3, bucket)["photos"]} == names
    mhead = s3.head_object(Bucket=bucket, Key="events/wedding/manifest.json")
    assert mhead["ContentType"] == "application/json"
    assert mhead["CacheControl"] == "public, max-age=5"
    # What went over the wire: Content-MD5 on every PUT, none of the CRC32 headers R2 rejects.
    puts = proxy.puts()
    assert len(puts) == 6  # 2 photos, 2 thumbnails, manifest.json and this appliance's shard
    shard = f"events/wedding/manifests/{store.appliance_id()}.json"
    assert s3.get_object(Bucket=bucket, Key=shard)["Body"].read() == s3.get_object(
        Bucket=bucket, Key="events/wedding/manifest.json")["Body"].read()
    for record in puts:
        assert "content-md5" in record.headers
        assert not any(h.startswith("x-amz-checksum") or h == "x-amz-sdk-checksum-algorithm"
                       for h in record.headers), record.headers
    status = store.status()
    assert status["online"] is True and status["queue"] == {"jobs": 0, "bytes": 0}
    assert status["last_success_at"] and status["current_upload"] is None
    syncer.close()


def test_manifest_never_references_missing_objects(config, store, s3, bucket, samples):
    publish_samples(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg", "DSCN0021.jpg"])
    syncer = Syncer(config, store)
    seen: list[int] = []
    steps = step_through(syncer, lambda: seen.append(len(assert_gallery_whole(s3, bucket))))
    assert steps >= 7 and seen[-1] == 3
    assert len(bucket_manifest(s3, bucket)["photos"]) == 3


def test_burst_coalesces_manifest_writes(config, store, s3, bucket, samples):
    publish_samples(config, store, samples, sorted(p.name for p in (samples / "gps").glob("*.jpg")))
    assert store.scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'manifest'") == 0  # only live photos
    assert Syncer(config, store).drain_once() == 0
    assert store.sync_state()["manifest_puts"] == 1
    assert len(bucket_manifest(s3, bucket)["photos"]) == 9


def test_burst_of_50_publishes_under_the_service_ends_in_few_manifests(
        tmp_path, store, s3, bucket, samples, proxy):
    config = bucket_config(tmp_path, proxy.url, bucket)
    photo_ids = import_samples(config, store, samples)
    with SyncThread(config):
        time.sleep(0.3)
        pubs = publish_many(config, store, photo_ids, 50)  # requested at once, rendered one by one
        wait_for(lambda: store.queue_depth()["jobs"] == 0 and store.scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'manifest' AND state = 'done'"), 30)
        names = assert_gallery_whole(s3, bucket)
    assert sorted(names) == sorted(p["name"] for p in pubs)
    assert proxy.invariant.violations == []
    assert 1 <= len(proxy.puts("manifest.json")) <= 2, [r.at for r in proxy.puts("manifest.json")]


def test_unpublish_manifest_first_then_delete(config, store, s3, bucket, samples):
    pubs = publish_samples(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg"])
    syncer = Syncer(config, store)
    assert syncer.drain_once() == 0
    gone = pubs[0]
    Publisher(config, store).unpublish(gone["id"])
    time.sleep(MANIFEST_MIN_INTERVAL_S)
    assert [j["kind"] for j in syncer.runnable(ignore_backoff=True)] == ["manifest"], \
        "deletes must wait for the manifest"
    step_through(syncer, lambda: assert_gallery_whole(s3, bucket))
    keys = bucket_keys(s3, bucket)
    assert f"events/wedding/photos/{gone['name']}.jpg" not in keys
    assert f"events/wedding/thumbs/{gone['name']}.jpg" not in keys
    assert f"events/wedding/photos/{pubs[1]['name']}.jpg" in keys
    assert [p["name"] for p in bucket_manifest(s3, bucket)["photos"]] == [pubs[1]["name"]]


def test_offline_keeps_jobs_and_recovers(tmp_path, store, config, s3, bucket, samples):
    publish_samples(config, store, samples, ["DSCN0010.jpg"])
    dead = bucket_config(tmp_path, "http://127.0.0.1:9", bucket)  # same store, nothing listens there
    offline = Syncer(dead, store)
    assert offline.drain_once() == 2
    status = store.status()
    assert status["online"] is False and "offline" in status["last_error"]
    assert status["queue"]["jobs"] == 2 and status["queue"]["bytes"] > 0
    job = store.row("SELECT * FROM jobs WHERE kind = 'upload' AND attempts > 0 LIMIT 1")
    assert job["last_error"].startswith("offline") and job["next_attempt_at"] > time.time()
    assert gpio.panel_state(status, services_ready=True, problems=[]) == "offline"
    # Back online: the probe makes every job due at once, and the queue drains.
    online = Syncer(config, store)
    assert online.probe() is True
    assert store.scalar("SELECT MAX(next_attempt_at) FROM jobs WHERE state='pending'") == 0
    assert online.drain_once() == 0
    assert len(bucket_manifest(s3, bucket)["photos"]) == 1
    assert gpio.panel_state(store.status(), services_ready=True, problems=[]) == "ready"


def test_backoff_is_exponential_capped_and_jittered(tmp_path, store, bucket, samples, proxy):
    config = bucket_config(tmp_path, proxy.url, bucket, "")
    config = replace(config, sync=replace(config.sync, max_backoff_seconds=8))
    publish_samples(config, store, samples, ["DSCN0010.jpg"])
    proxy.faults(fail=1.0)  # every request answered with HTTP 500
    syncer = Syncer(config, store)
    delays: list[float] = []
    for _ in range(7):
        store.conn.execute("UPDATE jobs SET next_attempt_at = 0 WHERE state = 'pending'")
        job = store.row("SELECT * FROM jobs WHERE kind = 'upload' ORDER BY id LIMIT 1")
        before = time.time()
        syncer.run_job(job)
        after = store.row("SELECT * FROM jobs WHERE id = ?", (job["id"],))
        assert after["state"] == "pending" and "500" in after["last_error"]
        delays.append(after["next_attempt_at"] - before)
    expected = [1, 2, 4, 8, 8, 8, 8]
    for got, cap in zip(delays, expected, strict=True):
        assert cap / 2 - 0.1 <= got <= cap + 0.1, delays
    assert store.row("SELECT attempts FROM jobs WHERE kind = 'upload' ORDER BY id LIMIT 1")["attempts"] == 7
    assert store.status()["retrying"] == 1 and store.status()["online"] is not False
    syncer.close()


def test_parallel_uploads_overlap_when_the_uplink_is_slow(tmp_path, store, bucket, samples, proxy):
    config = bucket_config(tmp_path, proxy.url, bucket)
    publish_samples(config, store, samples, sorted(p.name for p in (samples / "gps").glob("*.jpg"))[:4])
    proxy.faults(latency=0.3)  # every request takes 0.3 s: the uplink is the bottleneck
    syncer = Syncer(config, store, workers=4)
    started = time.monotonic()
    syncer.dispatch(syncer.runnable(ignore_backoff=True, kinds=("upload",)))
    assert len(syncer.in_flight) == 8  # 4 running, 4 waiting for a worker
    while syncer.in_flight:
        syncer.collect(timeout=None)
    elapsed = time.monotonic() - started
    assert elapsed < 8 * 0.3 * 0.6, f"8 uploads at 0.3 s each took {elapsed:.2f}s"
    assert store.scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'upload' AND state = 'done'") == 8
    syncer.close()


def test_safe_mode_never_deletes_foreign_or_published_objects(config, store, s3, bucket, samples):
    pubs = publish_samples(config, store, samples, ["DSCN0010.jpg"])
    syncer = Syncer(config, store)
    assert syncer.drain_once() == 0
    s3.put_object(Bucket=bucket, Key="events/wedding/photos/SOMEONE_ELSE.jpg", Body=b"x")
    event_id = store.current_event()["id"]
    with store.transaction():  # bad jobs, e.g. from a bug or a hand-edited database
        store.enqueue("delete", event_id, "events/wedding/photos/SOMEONE_ELSE.jpg")
        store.enqueue("delete", event_id, f"events/wedding/photos/{pubs[0]['name']}.jpg",
                      publication_id=pubs[0]["id"])
    assert syncer.drain_once() == 0
    refused = store.rows("SELECT * FROM jobs WHERE state = 'refused' ORDER BY id")
    assert len(refused) == 2 and all(r["last_error"].startswith("safe mode") for r in refused)
    keys = bucket_keys(s3, bucket)
    assert "events/wedding/photos/SOMEONE_ELSE.jpg" in keys
    assert f"events/wedding/photos/{pubs[0]['name']}.jpg" in keys
    assert "safe mode" in store.status()["last_error"]


def test_r2_client_settings():
    cfg = parse('[bucket]\naccount_id = "0123456789abcdef0123456789abcdef"\nbucket = "photos"\n'
                'connect_timeout = 2.0\nread_timeout = 5.0\n').bucket
    client = bucket_mod.client(cfg)
    assert client.meta.endpoint_url == "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com"
    assert client.meta.region_name == "auto"
    conf = client.meta.config
    assert conf.request_checksum_calculation == "when_required"
    assert conf.response_checksum_validation == "when_required"
    assert (conf.connect_timeout, conf.read_timeout) == (2.0, 5.0)
    assert conf.retries["total_max_attempts"] == 1  # no botocore retries: the outbox retries
    with pytest.raises(ValueError, match="account_id"):
        bucket_mod.client(parse('[bucket]\nbucket = "photos"\n').bucket)


def test_multiple_events_never_mix(config, store, s3, bucket, samples):
    photo_ids = import_samples(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg"])
    first = publish_many(config, store, photo_ids[:1])
    second_id = store.ensure_event("party", "After party")
    store.set_setting("current_event_id", second_id)
    second = publish_many(config, store, photo_ids)
    # Unpublishing in the old event after the switch touches only the old event.
    assert Syncer(config, store).drain_once() == 0
    Publisher(config, store).unpublish(first[0]["id"])
    assert Syncer(config, store).drain_once() == 0
    assert bucket_keys(s3, bucket, "events/wedding/") == {
        "events/wedding/manifest.json", f"events/wedding/manifests/{store.appliance_id()}.json"}
    assert bucket_manifest(s3, bucket, "wedding")["photos"] == []
    party = assert_gallery_whole(s3, bucket, "party")
    assert sorted(party) == sorted(p["name"] for p in second)
    assert bucket_manifest(s3, bucket, "party")["event"]["title"] == "After party"
    assert all(k.startswith("events/party/") for k in bucket_keys(s3, bucket, "events/party"))


def test_status_shows_sync_state(tmp_path, config, store, bucket, samples, capsys):
    publish_samples(config, store, samples, ["DSCN0010.jpg"])
    dead = write_config(tmp_path, "http://127.0.0.1:9", bucket)
    assert cli.main(["--config", str(dead), "sync", "--once"]) == 1
    capsys.readouterr()
    assert cli.main(["--config", str(dead), "status"]) == 0
    out = capsys.readouterr().out
    assert "queue:      2 jobs" in out and "bytes" in out
    assert "bucket:     offline" in out and "last error: offline" in out
    store.set_sync_state(current_key="events/wedding/photos/X.jpg", in_flight=1)
    assert cli.main(["--config", str(dead), "status"]) == 0
    assert "uploading:  events/wedding/photos/X.jpg" in capsys.readouterr().out


def test_webp_files_are_uploaded_verified_and_deleted(config, store, s3, bucket, samples):
    from appliance.sync import r2tools

    config = replace(config, publish=replace(config.publish, webp=True))
    pubs = publish_samples(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg"])
    assert Syncer(config, store).drain_once() == 0
    webp = f"events/wedding/photos/{pubs[0]['name']}.webp"
    assert s3.head_object(Bucket=bucket, Key=webp)["ContentType"] == "image/webp"
    assert all(p.get("webp") for p in bucket_manifest(s3, bucket)["photos"])
    assert_gallery_whole(s3, bucket)
    assert r2tools.verify(config, store, s3, store.current_event()).equal
    Publisher(config, store).unpublish(pubs[0]["id"])
    assert Syncer(config, store).drain_once() == 0
    assert webp not in bucket_keys(s3, bucket)
    assert r2tools.verify(config, store, s3, store.current_event()).equal
