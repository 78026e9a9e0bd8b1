"""Sync benchmark: the SQLite outbox against a loopback moto S3 server (in its own process).

1. Drain: N queued photos (a ~1 MB web JPEG and a ~40 KB thumbnail each, plus the manifest) are
   drained by the sync service loop. Baseline in the same run: the same PUTs (same bodies,
   Content-MD5, worker count and client settings) from a bare thread pool with no queue. Figures:
   photos per second, and the queue's overhead per job = (outbox time - bare time) / jobs, plus
   the main thread's CPU time per job (the database work the queue adds).
2. Latency: `appliance publisher` and `appliance sync` run as services; a 24 MP camera-like JPEG
   is published (as the admin does: a request in the store) and the bucket is polled until its
   objects and a manifest listing it are there. p50/p95 over the photos. Peak RSS of the sync
   service is its own (VmHWM of that fresh child process).

    .venv/bin/python bench/sync.py [--quick]

Times are medians of repeated runs on a shared machine. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from machine import describe, report  # bench/machine.py

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from camera import camera_like  # bench/camera.py

from appliance.config import Config, load
from appliance.ingest.importer import Importer
from appliance.publish import manifest
from appliance.publish.worker import PHOTO_CACHE, Publisher, bucket_key
from appliance.store import Store, utcnow
from appliance.sync import bucket as bucket_mod
from appliance.sync.syncer import Syncer

BUCKET = "bench-sync"
MOTO = """
import os, sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # until the bench closes the pipe (or dies)
os._exit(0)
"""


# -- inputs ----------------------------------------------------------------------------------------
def web_files(folder: Path, count: int) -> list[tuple[Path, Path]]:
    """``count`` distinct (web ~1 MB, thumb ~40 KB) JPEG pairs, reused round-robin by the queue."""
    folder.mkdir(parents=True, exist_ok=True)
    pairs = []
    for i in range(count):
        web, thumb = folder / f"web{i}.jpg", folder / f"thumb{i}.jpg"
        web.write_bytes(camera_like((1366, 2048), i, quality=88))
        thumb.write_bytes(camera_like((320, 480), 1000 + i, quality=85))
        pairs.append((web, thumb))
    return pairs


def start_moto() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-c", MOTO], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}"


def write_config(folder: Path, endpoint: str, workers: int) -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "appliance.toml"
    path.write_text(f"""
[paths]
data_root = "data"
[sync]
workers = {workers}
[bucket]
endpoint_url = "{endpoint}"
bucket = "{BUCKET}"
region = "us-east-1"
key_id = "bench"
secret = "bench"
[admin]
password = "bench"
[event]
slug = "bench"
title = "Bench"
""")
    return load(path)


# -- 1. drain ---------------------------------------------------------------------------------------
def queue_photos(config: Config, n: int, pairs: list[tuple[Path, Path]]) -> Store:
    """A fresh store with ``n`` published photos whose uploads are queued (no rendering)."""
    config.ensure_folders()
    store = Store(config.db_path)
    event_id = store.ensure_event("bench", "Bench")
    with store.transaction():
        store.conn.execute(
            "INSERT INTO photos (sha256, original_name, buffer_path, size, imported_at) "
            "VALUES ('bench', 'IMG.JPG', 'IMG.JPG', 1, ?)", (utcnow(),))
        for i in range(n):
            web, thumb = pairs[i % len(pairs)]
            name = f"IMG_{i:05d}"
            cursor = store.conn.execute(
                "INSERT INTO publications (photo_id, event_id, base, seq, name, recipe, state, "
                "width, height, thumb_width, thumb_height, requested_at, published_at) "
                "VALUES (1, ?, 'IMG', ?, ?, '{}', 'published', 2048, 1366, 480, 320, ?, ?)",
                (event_id, i + 1, name, utcnow(), utcnow()))
            for relative, path in ((manifest.photo_key(name), web), (manifest.thumb_key(name), thumb)):
                store.enqueue("upload", event_id, bucket_key(config, "bench", relative),
                              publication_id=cursor.lastrowid, path=str(path),
                              content_type="image/jpeg", cache_control=PHOTO_CACHE,
                              size=path.stat().st_size)
    return store


def drain_outbox(config: Config, store: Store) -> tuple[float, float, int]:
    """Run the sync service loop until the queue is empty; returns (seconds, main CPU s, jobs)."""
    jobs = store.scalar("SELECT COUNT(*) FROM jobs")
    syncer = Syncer(config, store)
    last = {"at": 0.0, "going": True}

    def keep_going() -> bool:  # look at the queue at most every 20 ms
        if last["going"] and time.monotonic() - last["at"] >= 0.02:
            last["at"], last["going"] = time.monotonic(), bool(store.queue_depth()["jobs"])
        return last["going"]

    cpu, started = time.thread_time(), time.perf_counter()
    syncer.run(keep_going, time.sleep)
    elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu
    assert store.queue_depth()["jobs"] == 0
    return elapsed, cpu, jobs + 1  # + the manifest job created on the way


def drain_bare(config: Config, store: Store, workers: int) -> float:
    """The same PUTs from a bare thread pool: no store, no ordering, no state."""
    rows = store.rows("SELECT key, path, content_type, cache_control FROM jobs WHERE kind = 'upload'")
    client = bucket_mod.client(config.bucket, pool_size=workers + 2)

    def put(row: dict) -> None:
        bucket_mod.put(client, BUCKET, bucket_mod.Put(row["key"], Path(row["path"]).read_bytes(),
                                                      row["content_type"], row["cache_control"]))

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(put, rows))
    body = manifest.encode(manifest.build(store, 1, live_only=False))
    bucket_mod.put(client, BUCKET, bucket_mod.Put("events/bench/manifest.json", body,
                                                  "application/json", "public, max-age=5"))
    return time.perf_counter() - started


def bench_drain(work: Path, endpoint: str, n: int, repeats: int, workers: int) -> dict:
    pairs = web_files(work / "files", 8)
    mb = statistics.mean(p[0].stat().st_size for p in pairs) / 1e6
    outbox, bare, cpu = [], [], []
    jobs = 0
    for r in range(repeats):
        config = write_config(work / f"drain{r}", endpoint, workers)
        store = queue_photos(config, n, pairs)
        bare.append(drain_bare(config, store, workers))
        seconds, main_cpu, jobs = drain_outbox(config, store)
        outbox.append(seconds)
        cpu.append(main_cpu)
        store.close()
        print(f"  run {r + 1}: outbox {seconds:6.2f}s   bare pool {bare[-1]:6.2f}s")
    t_outbox, t_bare = statistics.median(outbox), statistics.median(bare)
    return {
        "photos": n, "web_mb": round(mb, 2), "jobs": jobs,
        "outbox_s": t_outbox, "bare_s": t_bare,
        "drain_photos_per_s": n / t_outbox, "bare_photos_per_s": n / t_bare,
        "overhead_ms_per_job": max(0.0, (t_outbox - t_bare) / jobs * 1000),
        "queue_cpu_ms_per_job": statistics.median(cpu) / jobs * 1000,
    }


# -- 2. publish -> bucket latency -------------------------------------------------------------------
def bench_latency(work: Path, endpoint: str, count: int, workers: int, originals: int) -> dict:
    config = write_config(work / "latency", endpoint, workers)
    config.ensure_folders()
    store = Store(config.db_path)
    store.ensure_event("bench", "Bench")
    card = work / "card"
    card.mkdir(exist_ok=True)
    for i in range(originals):
        (card / f"DSC{i:05d}.JPG").write_bytes(camera_like((6000, 4000), 50 + i))
    Importer(config, store).import_tree(card)
    photo_ids = [r["id"] for r in store.rows("SELECT id FROM photos ORDER BY id")]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "APPLIANCE_LOG_LEVEL": "WARNING"}
    env.pop("NOTIFY_SOCKET", None)
    base = [sys.executable, "-m", "appliance", "--config", str(config.source)]
    services = {name: subprocess.Popen([*base, name], env=env, stderr=subprocess.DEVNULL)
                for name in ("publisher", "sync")}
    s3 = bucket_mod.client(config.bucket)
    publisher = Publisher(config, store)
    total, rendered, uploaded = [], [], []
    try:
        time.sleep(1.5)  # let both services start
        for i in range(count):
            started = time.perf_counter()
            pub_id = publisher.request(photo_ids[i % len(photo_ids)], {})
            name = store.publication(pub_id)["name"]
            t_rendered = t_live = None
            while True:
                pub = store.publication(pub_id)
                now = time.perf_counter() - started
                if t_rendered is None and pub["state"] == "published":
                    t_rendered = now
                if t_live is None and pub["live_at"]:
                    t_live = now
                if t_live is not None and _in_manifest(s3, name):
                    break
                if now > 30:
                    raise RuntimeError(f"{name} did not reach the bucket in 30 s")
                time.sleep(0.01)
            total.append(time.perf_counter() - started)
            rendered.append(t_rendered or 0.0)
            uploaded.append(t_live)
        peak_kb = _peak_rss_kb(services["sync"].pid)
    finally:
        for proc in services.values():
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
        store.close()
    total.sort()
    p95 = total[min(len(total) - 1, round(0.95 * (len(total) - 1)))]
    return {"count": count, "p50_s": statistics.median(total), "p95_s": p95,
            "rendered_p50_s": statistics.median(rendered), "live_p50_s": statistics.median(uploaded),
            "sync_peak_rss_mb": peak_kb / 1024}


def _peak_rss_kb(pid: int) -> int:
    """Peak RSS of a running child (VmHWM belongs to its own address space, after exec).

    ``ru_maxrss`` from wait4 would also count the bench's memory: a vfork()ed child shares the
    parent's pages until it execs.
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for {pid}")


def _in_manifest(s3, name: str) -> bool:
    try:
        body = s3.get_object(Bucket=BUCKET, Key="events/bench/manifest.json")["Body"].read()
    except s3.exceptions.NoSuchKey:
        return False
    return any(p["name"] == name for p in json.loads(body)["photos"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer photos (under a minute)")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    machine = describe()  # the load before this run adds its own
    n, repeats, count, originals = (120, 3, 8, 1) if args.quick else (1000, 3, 100, 3)
    moto, endpoint = start_moto()
    try:
        bucket_mod.client(write_config(Path(tempfile.mkdtemp()), endpoint, 1).bucket) \
            .create_bucket(Bucket=BUCKET)
        with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
            work = Path(tmp)
            print(f"drain: {n} queued photos, {args.workers} workers, moto on loopback "
                  f"(own process), {repeats} runs")
            drain = bench_drain(work, endpoint, n, repeats, args.workers)
            print(f"publish -> bucket: {count} photos from 24 MP originals, publisher + sync services")
            latency = bench_latency(work, endpoint, count, args.workers, originals)
    finally:
        moto.kill()
        moto.wait()
    rows = [
        ("drain: photos/s (outbox)", f"{drain['drain_photos_per_s']:.1f}", ">= 50"),
        ("drain: photos/s (bare thread pool)", f"{drain['bare_photos_per_s']:.1f}", ""),
        ("drain: outbox / bare time", f"{drain['outbox_s'] / drain['bare_s']:.2f}x", ""),
        ("queue overhead per job (wall)", f"{drain['overhead_ms_per_job']:.2f} ms", "<= 5"),
        ("queue CPU per job (main thread)", f"{drain['queue_cpu_ms_per_job']:.2f} ms", ""),
        ("publish -> bucket p50", f"{latency['p50_s']:.2f} s", ""),
        ("publish -> bucket p95", f"{latency['p95_s']:.2f} s", "<= 1.5"),
        ("  of which rendered (p50)", f"{latency['rendered_p50_s']:.2f} s", ""),
        ("  of which uploaded, live (p50)", f"{latency['live_p50_s']:.2f} s", ""),
        ("sync service peak RSS", f"{latency['sync_peak_rss_mb']:.0f} MB", ""),
    ]
    print()
    print(f"{'figure':<38} {'value':>10}  goal")
    for label, value, goal in rows:
        print(f"{label:<38} {value:>10}  {goal}")
    result = {
        "drain_photos_per_s": round(drain["drain_photos_per_s"], 1),
        "overhead_ms_per_job": round(drain["overhead_ms_per_job"], 3),
        "publish_to_bucket_p95_s": round(latency["p95_s"], 3),
        "bare_photos_per_s": round(drain["bare_photos_per_s"], 1),
        "queue_cpu_ms_per_job": round(drain["queue_cpu_ms_per_job"], 3),
        "publish_to_bucket_p50_s": round(latency["p50_s"], 3),
        "sync_peak_rss_mb": round(latency["sync_peak_rss_mb"], 1),
        "photos": drain["photos"], "web_mb": drain["web_mb"], "latency_photos": latency["count"],
    }
    result = report(result, machine)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
