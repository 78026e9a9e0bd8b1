"""The outbox under bad uplinks: a stopped server, injected 500s/resets/stalls, SIGKILLs.

Every bucket change passes through :class:`s3proxy.S3Proxy`, whose :class:`GalleryInvariant`
checks at each confirmed PUT/DELETE that no manifest references a missing object.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer
from support.bucket import assert_gallery_whole, bucket_keys, bucket_manifest
from support.config import bucket_config, write_config
from support.polling import wait_for
from support.publications import import_samples, publish_many
from support.s3proxy import GalleryInvariant, S3Proxy
from support.services import NotifyListener, SyncThread

from appliance.config import Config, load
from appliance.publish.worker import Publisher
from appliance.store import Store, open_store
from appliance.sync import r2tools

ROOT = Path(__file__).resolve().parents[2]


def proxied(tmp_path: Path, proxy: S3Proxy, bucket: str, extra: str = "") -> Config:
    config = bucket_config(tmp_path, proxy.url, bucket, extra)
    return replace(config, sync=replace(config.sync, max_backoff_seconds=3))


def drained(store: Store) -> bool:
    return store.queue_depth()["jobs"] == 0


def assert_bucket_equals_store(config: Config, store: Store, s3) -> None:  # noqa: ANN001
    report = r2tools.verify(config, store, s3, store.current_event())
    assert report.equal, report.to_dict()


def test_server_stopped_with_200_publishes_then_restarted(tmp_path, s3, bucket, samples):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    proxy = S3Proxy(f"http://{host}:{port}", bucket)  # moto keeps its state across restarts
    invariant = GalleryInvariant()
    proxy.observers.append(invariant)
    config = proxied(tmp_path, proxy, bucket)
    store = open_store(config)
    photo_ids = import_samples(config, store, samples)
    try:
        with SyncThread(config):
            first = publish_many(config, store, photo_ids, 5)
            wait_for(lambda: len(assert_gallery_whole(s3, bucket)) == 5, 20)
            server.stop()
            queued = publish_many(config, store, photo_ids, 200)
            wait_for(lambda: store.status()["online"] is False, 20)
            status = store.status()
            assert status["queue"]["jobs"] >= 400 and status["queue"]["bytes"] > 400 * 10_000
            assert len(assert_gallery_whole(s3, bucket)) == 5  # the old gallery is untouched
            time.sleep(1)
            stopped_at = len(proxy.records)
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
            server.start()
            wait_for(lambda: drained(store), 90, every=0.2)
            wait_for(lambda: store.status()["online"] is True, 5)
    finally:
        server.stop()
        proxy.close()
    names = assert_gallery_whole(s3, bucket)
    assert sorted(names) == sorted(p["name"] for p in first + queued)
    assert invariant.violations == []
    # In order: photos went up oldest first (give or take the parallel workers), and the
    # manifests after the restart were coalesced, not one per photo.
    after = proxy.records[stopped_at:]
    order = {p["name"]: i for i, p in enumerate(queued)}
    uploaded = [order[Path(r.key).stem] for r in after
                if r.method == "PUT" and r.status == 200 and "/photos/" in r.key]
    assert len(uploaded) == 200
    assert all(abs(position - rank) <= 2 * config.sync.workers
               for position, rank in enumerate(uploaded)), uploaded
    manifests = [r for r in after if r.method == "PUT" and r.status == 200
                 and r.key.endswith("manifest.json")]
    assert 1 <= len(manifests) <= 3
    last_object = max(r.at for r in after if r.method == "PUT" and "manifest" not in r.key)
    assert manifests[-1].at > last_object
    assert_bucket_equals_store(config, store, s3)


def test_500s_resets_and_stalls_converge(tmp_path, s3, bucket, samples, proxy):
    config = proxied(tmp_path, proxy, bucket)
    store = open_store(config)
    photo_ids = import_samples(config, store, samples)
    proxy.stall_seconds = 2.5  # longer than the 2 s read timeout of the test config
    proxy.faults(fail=0.15, reset=0.07, stall=0.03, stall_after=0.03)
    check = lambda: assert_gallery_whole(s3, bucket)  # noqa: E731
    publisher = Publisher(config, store)
    with SyncThread(config):
        pubs: list[dict] = []
        for _ in range(5):
            pubs += publish_many(config, store, photo_ids, 6)
            live = [p for p in pubs if store.publication(p["id"])["state"] == "published"]
            publisher.unpublish(random.Random(len(pubs)).choice(live)["id"])
            time.sleep(0.5)
            check()
        wait_for(lambda: drained(store), 120, every=0.2, check=check)
    assert proxy.invariant.violations == []
    faults = {r.fault for r in proxy.records}
    assert {"fail", "stall_after"} <= faults, faults
    assert store.scalar("SELECT COUNT(*) FROM jobs WHERE attempts > 0") > 0
    published = [p for p in pubs if store.publication(p["id"])["state"] == "published"]
    assert sorted(assert_gallery_whole(s3, bucket)) == sorted(p["name"] for p in published)
    assert_bucket_equals_store(config, store, s3)


def test_unpublish_while_offline(tmp_path, s3, bucket, samples, proxy):
    config = proxied(tmp_path, proxy, bucket)
    store = open_store(config)
    photo_ids = import_samples(config, store, samples)
    publisher = Publisher(config, store)
    with SyncThread(config):
        live = publish_many(config, store, photo_ids, 3)
        wait_for(lambda: len(assert_gallery_whole(s3, bucket)) == 3 and drained(store), 20)
        proxy.down = True
        later = publish_many(config, store, photo_ids, 2)
        wait_for(lambda: store.status()["online"] is False, 10)
        publisher.unpublish(live[0]["id"])  # in the gallery
        publisher.unpublish(later[0]["id"])  # never reached the bucket
        time.sleep(2.5)
        assert len(assert_gallery_whole(s3, bucket)) == 3  # nothing changed while offline
        assert store.status()["online"] is False
        assert store.status()["queue"]["jobs"] >= 3
        proxy.down = False
        wait_for(lambda: drained(store), 30, check=lambda: assert_gallery_whole(s3, bucket))
    assert sorted(assert_gallery_whole(s3, bucket)) == sorted(
        p["name"] for p in (live[1], live[2], later[1]))
    keys = bucket_keys(s3, bucket)
    for gone in (live[0], later[0]):
        assert f"events/wedding/photos/{gone['name']}.jpg" not in keys
        assert f"events/wedding/thumbs/{gone['name']}.jpg" not in keys
    never = f"events/wedding/photos/{later[0]['name']}.jpg"
    assert not any(r.key == never and r.method == "PUT" for r in proxy.records)
    assert proxy.invariant.violations == []
    assert_bucket_equals_store(config, store, s3)


@pytest.mark.slow
def test_sigkill_at_random_points_then_verify(tmp_path, s3, bucket, samples, proxy):
    """≥50 SIGKILLs of `appliance sync` mid-work; afterwards `appliance r2 verify` says equal."""
    config_path = write_config(tmp_path, proxy.url, bucket, "")
    text = config_path.read_text().replace("[sync]\n", "[sync]\nmax_backoff_seconds = 2\n")
    config_path.write_text(text)
    config = load(config_path)
    store = open_store(config)
    photo_ids = import_samples(config, store, samples)
    publisher = Publisher(config, store)
    rng = random.Random(5)
    pubs = publish_many(config, store, photo_ids, 30)
    proxy.faults(fail=0.03, reset=0.02, latency=0.12)
    notify = NotifyListener()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NOTIFY_SOCKET": str(notify.path),
           "APPLIANCE_LOG_LEVEL": "ERROR"}
    command = [sys.executable, "-m", "appliance", "--config", str(config_path), "sync"]
    kills = busy_kills = 0
    deadline = time.monotonic() + 150  # ~60 s normally; room for a slow CI machine
    try:
        while kills < 55 and time.monotonic() < deadline:
            child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            notify.wait_ready(20)
            started = time.monotonic()
            pubs += publish_many(config, store, photo_ids, rng.randint(0, 3))  # while it runs
            if rng.random() < 0.4:
                live = [p for p in pubs if store.publication(p["id"])["state"] == "published"]
                publisher.unpublish(rng.choice(live)["id"])
            time.sleep(max(0.0, rng.uniform(0.05, 0.6) - (time.monotonic() - started)))
            busy_kills += store.scalar("SELECT in_flight FROM sync_state") > 0
            child.send_signal(signal.SIGKILL)
            assert child.wait(10) == -signal.SIGKILL
            kills += 1
            assert proxy.invariant.violations == []
            assert_gallery_whole(s3, bucket)
    finally:
        notify.close()
    assert kills >= 50, f"only {kills} kills in the time budget"
    assert busy_kills >= 15, f"only {busy_kills} of {kills} kills hit requests in flight"
    proxy.faults()
    env.pop("NOTIFY_SOCKET")
    once = subprocess.run([*command, "--once"], env=env, capture_output=True, text=True, timeout=120)
    assert once.returncode == 0, once.stdout + once.stderr
    verify = subprocess.run([sys.executable, "-m", "appliance", "--config", str(config_path), "r2",
                             "verify"], env=env, capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "the bucket equals the store" in verify.stdout
    assert proxy.invariant.violations == []
    assert proxy.invariant.keys == bucket_keys(s3, bucket)
    published = [p for p in pubs if store.publication(p["id"])["state"] == "published"]
    assert len(bucket_manifest(s3, bucket)["photos"]) == len(published) > 30
