"""The sync service notifies the event's live channel (the real Durable Object in workerd) only
after the bucket confirmed a manifest; a missing or refusing channel never stops the sync."""

from __future__ import annotations

import socket
import time

import pytest
from support.bucket import bucket_manifest
from support.config import bucket_config
from support.live_channel import LiveChannel
from support.publications import publish_samples

from appliance.store import JobKind
from appliance.sync import live_notify
from appliance.sync.syncer import Syncer

SECRET = "live-secret-for-tests-0123456789"


def notify_jobs(store) -> list[dict]:  # noqa: ANN001
    return store.rows("SELECT * FROM jobs WHERE kind = 'notify' ORDER BY id")


def live_config(tmp_path, moto_url, bucket, url: str, secret: str = SECRET):  # noqa: ANN001, ANN201
    return bucket_config(tmp_path, moto_url, bucket, f'[live]\nurl = "{url}"\nsecret = "{secret}"\n')


@pytest.fixture(scope="module")
def channel():  # noqa: ANN201
    with LiveChannel(SECRET) as ch:
        yield ch


def test_manifest_then_notify_reaches_the_channel(tmp_path, moto_url, bucket, s3, samples, channel):
    config = live_config(tmp_path, moto_url, bucket, channel.url)
    from appliance.store import open_store

    store = open_store(config)
    assert channel.announced("wedding")["version"] is None
    publish_samples(config, store, samples, ["DSCN0010.jpg"])
    syncer = Syncer(config, store)
    # Nothing to notify before a manifest is in the bucket.
    assert not notify_jobs(store)
    assert syncer.drain_once() == 0
    assert len(bucket_manifest(s3, bucket)["photos"]) == 1
    [job] = notify_jobs(store)
    assert job["state"] == "done" and job["key"] == "live/wedding"
    said = channel.announced("wedding")
    assert said == {"type": "manifest", "event": "wedding", "version": job["id"]}
    # A second publish: a new manifest, a new notify with a higher version.
    publish_samples(config, store, samples, ["DSCN0012.jpg"])
    assert syncer.drain_once() == 0
    assert channel.announced("wedding")["version"] > said["version"]
    syncer.close()
    store.close()


def test_notify_waits_for_the_manifest(config, store, samples, tmp_path, moto_url, bucket, channel):
    config = live_config(tmp_path, moto_url, bucket, channel.url)
    publish_samples(config, store, samples, ["DSCN0010.jpg"])
    syncer = Syncer(config, store)
    kinds_seen = []
    while True:
        jobs = syncer.runnable(ignore_backoff=True)
        if not jobs:
            if not store.queue_depth()["jobs"]:
                break
            time.sleep(0.05)  # a manifest waiting for its one-write-a-second slot
            continue
        kinds_seen.append(jobs[0]["kind"])
        syncer.run_job(jobs[0])
    assert kinds_seen[-2:] == [JobKind.MANIFEST, JobKind.NOTIFY]
    assert JobKind.NOTIFY not in kinds_seen[:-1]
    syncer.close()


def test_a_refusing_channel_keeps_the_notify_and_the_sync_online(tmp_path, moto_url, bucket, store,
                                                                 samples, channel):
    config = live_config(tmp_path, moto_url, bucket, channel.url, secret="not-the-channel-secret")
    publish_samples(config, store, samples, ["DSCN0010.jpg"])
    syncer = Syncer(config, store)
    left = syncer.drain_once()
    assert left == 1
    [job] = notify_jobs(store)
    assert job["state"] == "pending" and job["attempts"] == 1
    assert "refused the notify: HTTP 401 bad signature" in job["last_error"]
    assert syncer.online is True
    assert len(store.published(1, live_only=True)) == 1
    syncer.close()


def test_an_unreachable_channel_is_not_the_bucket_going_offline(tmp_path, moto_url, bucket, store,
                                                                samples):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    config = live_config(tmp_path, moto_url, bucket, f"http://127.0.0.1:{port}")
    publish_samples(config, store, samples, ["DSCN0010.jpg"])
    syncer = Syncer(config, store)
    assert syncer.drain_once() == 1
    [job] = notify_jobs(store)
    assert "live channel unreachable" in job["last_error"]
    assert syncer.online is True
    syncer.close()


def test_notifies_coalesce_per_event_and_a_lost_answer_is_not_resent(
        tmp_path, moto_url, bucket, store, channel):
    config = live_config(tmp_path, moto_url, bucket, channel.url)
    notifier = live_notify.LiveNotifier(config, store)
    event = store.current_event()
    for _ in range(3):
        notifier.manifest_written(event["id"])
    [job] = notify_jobs(store)
    assert job["version"] == 3
    send = notifier.prepare(job)
    send()
    send()  # the same signed notify again: the channel says 409, taken as delivered
    assert channel.announced(event["slug"])["version"] == job["id"]


def test_push_is_off_without_a_secret_or_url(tmp_path, moto_url, bucket, store):
    off = bucket_config(tmp_path, moto_url, bucket)
    assert not live_notify.LiveNotifier(off, store).enabled
    no_url = bucket_config(tmp_path, moto_url, bucket, '[live]\nsecret = "x"\n')
    assert not live_notify.LiveNotifier(no_url, store).enabled
    store.set_setting("gallery_url", "https://gallery.example/?event={event}")
    notifier = live_notify.LiveNotifier(no_url, store)
    assert notifier.enabled
    assert live_notify.channel_base(no_url, store) == "https://gallery.example"


def test_signature_matches_the_channel_algorithm():
    # The same derivation as functions/_lib/live.js (checked end to end above); pinned here
    # against an independent computation so a change on one side shows.
    import hashlib
    import hmac

    key = live_notify.event_key("s", "e")
    assert key == hmac.new(b"s", b"gallery-live/v1/e", hashlib.sha256).digest()
    sig = live_notify.signature(key, 12, "{}")
    assert sig == "t=12,v1=" + hmac.new(key, b"12.{}", hashlib.sha256).hexdigest()
