"""The culling figures of bench/admin.py: one batch publish of N photos against N single publishes.

The appliance runs as deployed: the admin under gunicorn, ``appliance publisher`` and ``appliance
sync`` as services, the bucket a moto S3 server on loopback (its own process). N camera-like JPEGs
(24 MP, q95, EXIF orientation 6; each distinct) are imported from a card folder. Then, in the same
run and alternating which goes first:

- batch: one ``POST /api/batch {"action": "publish", "ids": [...]}``, until every photo is live
  (all of its objects confirmed in the bucket);
- single: N ``POST /api/publish`` requests one after the other (as fast as a client can send
  them), until every photo is live.

Between the two every photo is unpublished again (one batch) and the outbox drained, so each run
starts from the same idle appliance and renders the same originals.
"""

from __future__ import annotations

import io
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import requests
from camera import camera_like  # bench/camera.py
from PIL import Image
from sync import start_moto  # bench/sync.py: moto's S3 server in a child process

from appliance.config import load
from appliance.ingest.importer import Importer
from appliance.store import Store
from appliance.sync import bucket as bucket_mod

BUCKET = "bench-culling"
TIMEOUT_S = 1800


def write_config(folder: Path, endpoint: str, password: str) -> Path:
    path = folder / "appliance.toml"
    path.write_text(f"""
[paths]
data_root = "data"
[publish]
poll_seconds = 0.1
[sync]
poll_seconds = 0.1
[bucket]
endpoint_url = "{endpoint}"
bucket = "{BUCKET}"
region = "us-east-1"
key_id = "bench"
secret = "bench"
[admin]
password = "{password}"
[event]
slug = "bench"
title = "Bench"
""")
    return path


def make_card(card: Path, count: int, size: tuple[int, int]) -> None:
    """``count`` distinct camera-like JPEGs: three drawn scenes, each frame with its own patch."""
    card.mkdir(parents=True, exist_ok=True)
    scenes = [Image.open(io.BytesIO(camera_like(size, seed))) for seed in range(3)]
    rng = random.Random(5)
    for i in range(count):
        scene = scenes[i % 3]
        image = scene.copy()
        w, h = image.size
        x, y = rng.randrange(w - 200), rng.randrange(h - 200)
        image.paste(tuple(rng.randrange(256) for _ in range(3)), (x, y, x + 200, y + 200))
        image.save(card / f"DSC_{i:04d}.JPG", "JPEG", quality=95, exif=scene.getexif().tobytes())


def with_csrf(base: str, session: requests.Session) -> requests.Session:
    """The session's JSON calls carry the CSRF token (as the admin's JS does)."""
    page = session.get(f"{base}/").text
    session.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return session


def wait(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not done in {TIMEOUT_S} s")
        time.sleep(0.05)


def all_live(store: Store, pub_ids: list[int]) -> Callable[[], bool]:
    def check() -> bool:
        pubs = [store.publication(p) for p in pub_ids]
        failed = [p["name"] for p in pubs if p and p["state"] == "failed"]
        if failed:
            raise RuntimeError(f"publish failed: {failed[:3]}")
        return all(p and p["live_at"] for p in pubs)
    return check


def idle(store: Store, event_id: int) -> Callable[[], bool]:
    return lambda: store.queue_depth()["jobs"] == 0 and store.publications_waiting(event_id) == 0


def run_batch(base: str, session: requests.Session, store: Store, ids: list[int]) -> float:
    started = time.perf_counter()
    res = session.post(f"{base}/api/batch", json={"action": "publish", "ids": ids})
    res.raise_for_status()
    answer = res.json()
    pub_ids = [r["publication_id"] for r in answer["results"] if r["ok"]]
    if len(pub_ids) != len(ids):
        raise RuntimeError(f"batch refused photos: {[r for r in answer['results'] if not r['ok']][:3]}")
    wait(all_live(store, pub_ids), "batch publish")
    seconds = time.perf_counter() - started
    progress = session.get(f"{base}/api/batch/{answer['batch']}").json()
    if not progress["done"] or progress["counts"]["live"] != len(ids):
        raise RuntimeError(f"the batch's progress does not say done: {progress}")
    return seconds


def run_single(base: str, session: requests.Session, store: Store, ids: list[int]) -> float:
    started = time.perf_counter()
    pub_ids = []
    for photo_id in ids:
        res = session.post(f"{base}/api/publish", json={"id": photo_id})
        res.raise_for_status()
        pub_ids.append(res.json()["id"])
    wait(all_live(store, pub_ids), "single publishes")
    return time.perf_counter() - started


def unpublish_all(base: str, session: requests.Session, store: Store, ids: list[int], event_id: int) -> None:
    session.post(f"{base}/api/batch", json={"action": "unpublish", "ids": ids}).raise_for_status()
    wait(idle(store, event_id), "unpublish")


def measure(work: Path, quick: bool, rounds: int, password: str,
            gunicorn: Callable[[Path], AbstractContextManager[tuple[str, Any]]],
            login: Callable[[str], requests.Session]) -> dict[str, Any]:
    """Batch against single publishes; returns the figures (seconds are medians of ``rounds``)."""
    count, size = (6, (2400, 1600)) if quick else (100, (6000, 4000))
    moto, endpoint = start_moto()
    services: dict[str, subprocess.Popen] = {}
    try:
        config = load(write_config(work, endpoint, password))
        config.ensure_folders()
        bucket_mod.client(config.bucket).create_bucket(Bucket=BUCKET)
        started = time.perf_counter()
        make_card(work / "card", count, size)
        store = Store(config.db_path)
        event_id = store.ensure_event("bench", "Bench")
        Importer(config, store).import_tree(work / "card")
        ids = [r["id"] for r in store.rows("SELECT id FROM photos ORDER BY id")]
        setup_s = time.perf_counter() - started
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
               "APPLIANCE_LOG_LEVEL": "WARNING"}
        env.pop("NOTIFY_SOCKET", None)
        cli = [sys.executable, "-m", "appliance", "--config", str(config.source)]
        services = {name: subprocess.Popen([*cli, name], env=env, stderr=subprocess.DEVNULL)
                    for name in ("publisher", "sync")}
        batch, single = [], []
        with gunicorn(config.source) as (base, _proc):
            session = with_csrf(base, login(base))
            wait(idle(store, event_id), "services start")
            for i in range(rounds):
                order = [("batch", run_batch, batch), ("single", run_single, single)]
                for _name, run, into in (order if i % 2 == 0 else order[::-1]):
                    into.append(run(base, session, store, ids))
                    unpublish_all(base, session, store, ids, event_id)
        store.close()
    finally:
        for proc in services.values():
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        moto.kill()
        moto.wait()
    ratios = [b / s for b, s in zip(batch, single, strict=True)]
    return {"photos": count, "megapixels": round(size[0] * size[1] / 1e6), "setup_s": setup_s,
            "batch_s": statistics.median(batch), "single_s": statistics.median(single),
            "ratio": statistics.median(ratios), "batch_runs": batch, "single_runs": single}
