"""index_keeps_up for bench/faces.py: the faces service indexing while the publisher keeps publishing.

The real services as child processes (`appliance publisher`, `appliance faces`, each its own
process, as systemd runs them; the faces service at idle CPU priority as its unit and its own code
ask), one store, one event with face search on. Originals: face-api's six demo group photos (3-5
faces each) scaled to 6000 px (24 MP, quality 92), imported by the real importer; published at
publish.long_edge 2048 (the web-size photos the indexer reads), each original many times over
(every request is a new publication: a new rendering to index).

1. Each original is published once (nothing measured): the indexer's first material.
2. Rounds, alternating: publishing alone (the faces service stopped) and publishing with the
   faces service running. Publishing runs at the bench's rate: one photo requested as soon as the
   previous one is published (as fast as this machine publishes one by one; bench/sync.py's
   latency run does the same). Publish latency = request -> rendered and published; p95 per mode.
3. While the faces service runs, the bench keeps its queue from running dry: when fewer than a
   batch (PHOTOS_PER_THREAD x faces.threads photos) wait, the scans of the photos scanned longest
   ago are deleted (those photos are then indexed again: the same work as new ones).
   index_keeps_up = photos scanned per second while publishing with faces (scans finished + scans
   deleted, counted in one transaction), between the first and the last batch that finished during
   publishing (the service records a batch's photos together).
4. CPU time, which other processes on a shared machine do not change much: index_cpu_s_per_photo
   (the faces service and its Node worker, per photo scanned while publishing) and
   publisher_cores_busy (the publisher's CPU seconds per second of publishing alone). On an
   appliance with nothing else running, the indexer has (cores - publisher_cores_busy) cores:
   about that divided by index_cpu_s_per_photo photos per second (an estimate, not index_keeps_up).
"""

from __future__ import annotations

import itertools
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from PIL import Image

from appliance.config import Config, load
from appliance.ingest.importer import Importer
from appliance.publish import face_settings
from appliance.publish.faces import PHOTOS_PER_THREAD
from appliance.publish.worker import Publisher
from appliance.store import Store

ROOT = Path(__file__).resolve().parents[1]
ORIGINAL_EDGE = 6000  # 6000 x 4000 and so on: 24 MP, a camera's JPEG


def write_config(folder: Path, threads: int) -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "appliance.toml"
    path.write_text(f"""
[paths]
data_root = "data"
[admin]
password = "bench"
[event]
slug = "bench"
title = "Bench"
[faces]
threads = {threads}
""")
    return load(path)


def originals(card: Path, demos: list[Path]) -> None:
    """Camera-sized JPEGs of the group photos."""
    card.mkdir(parents=True, exist_ok=True)
    big = []
    for path in demos:
        with Image.open(path) as im:
            rgb = im.convert("RGB")
        scale = ORIGINAL_EDGE / max(rgb.size)
        size = (round(rgb.width * scale), round(rgb.height * scale))
        big.append(rgb.resize(size, Image.Resampling.BICUBIC))
    for i, image in enumerate(big):
        image.save(card / f"DSC{i:05d}.JPG", "JPEG", quality=92)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Feeder(threading.Thread):
    """Keeps the indexer's queue from running dry and counts the scans it finishes (its own store
    connection, in its own thread; ``done`` is at most 50 ms old)."""

    def __init__(self, db_path: Path, low: int) -> None:
        super().__init__(daemon=True)
        self.db_path, self.low = db_path, low
        self.done = 0  # scans finished so far: present + deleted, read in one transaction
        self.changes: list[tuple[float, int]] = []  # (perf_counter, done) whenever done grew
        self.stop = threading.Event()

    def run(self) -> None:
        store = Store(self.db_path)
        deleted = 0
        try:
            while not self.stop.wait(0.05):
                with store.transaction():
                    if store.face_jobs_left() < self.low:
                        deleted += store.conn.execute(
                            "DELETE FROM face_scans WHERE publication_id IN (SELECT publication_id "
                            "FROM face_scans ORDER BY scanned_at LIMIT ?)", (self.low,)).rowcount
                    done = int(store.scalar("SELECT COUNT(*) FROM face_scans")) + deleted
                if done > self.done:
                    self.changes.append((time.perf_counter(), done))
                self.done = done
        finally:
            store.close()


def rate(changes: list[tuple[float, int]], t0: float, t1: float) -> tuple[int, float]:
    """Scans and seconds between the first and the last batch finished within [t0, t1] (the service
    records a batch's photos together: counting whole windows would round to batches); (0, 0.0)
    when fewer than two finished (the caller then counts the whole window)."""
    inside = [(t, n) for t, n in changes if t0 <= t <= t1]
    if len(inside) < 2:
        return 0, 0.0
    return inside[-1][1] - inside[0][1], inside[-1][0] - inside[0][0]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a live process and all its descendants, threads included."""
    total, todo = 0.0, [pid]
    while todo:
        proc = Path(f"/proc/{todo.pop()}")
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in (proc / "task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return total


def publish_one(publisher: Publisher, store: Store, photo_id: int) -> float:
    started = time.perf_counter()
    pub_id = publisher.request(photo_id, {})
    while store.publication(pub_id)["state"] != "published":
        if time.perf_counter() - started > 60:
            raise RuntimeError(f"publication {pub_id} not published within 60 s")
        time.sleep(0.005)
    return time.perf_counter() - started


def wait_published(store: Store, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while store.scalar("SELECT COUNT(*) FROM publications WHERE state IN ('queued', 'processing')"):
        if time.monotonic() > deadline:
            raise RuntimeError("the first photos were not published in time")
        time.sleep(0.1)


def keeps_up(work: Path, demos: list[Path], per_round: int, rounds: int, threads: int) -> dict[str, Any]:
    """Publish latency alone and with the faces service, and the indexer's rate meanwhile."""
    config = write_config(work / "keepup", threads)
    config.ensure_folders()
    store = Store(config.db_path)
    event_id = store.ensure_event("bench", "Bench")
    face_settings.save(store, event_id, face_settings.FaceSettings(True, "bench"))
    originals(work / "card", demos)
    Importer(config, store).import_tree(work / "card")
    photos = [r["id"] for r in store.rows("SELECT id FROM photos ORDER BY id")]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "APPLIANCE_LOG_LEVEL": "WARNING"}
    env.pop("NOTIFY_SOCKET", None)
    base = [sys.executable, "-m", "appliance", "--config", str(config.source)]
    publisher_proc = subprocess.Popen([*base, "publisher"], env=env, stderr=subprocess.DEVNULL)
    faces_proc: subprocess.Popen[bytes] | None = None
    publisher = Publisher(config, store)
    alone: list[float] = []
    with_faces: list[float] = []
    scanned, seconds = 0, 0.0
    faces_cpu = publisher_cpu = alone_seconds = 0.0
    cpu_scans = 0
    try:
        publisher.request_many(photos, {})
        wait_published(store)
        queue = itertools.cycle(photos)
        for _ in range(rounds):
            cpu0, t0 = cpu_seconds(publisher_proc.pid), time.perf_counter()
            alone += [publish_one(publisher, store, next(queue)) for _ in range(per_round)]
            publisher_cpu += cpu_seconds(publisher_proc.pid) - cpu0
            alone_seconds += time.perf_counter() - t0
            faces_proc = subprocess.Popen([*base, "faces"], env=env, stderr=subprocess.DEVNULL)
            feeder = Feeder(config.db_path, threads * PHOTOS_PER_THREAD)  # a whole batch waiting
            feeder.start()
            deadline = time.monotonic() + 120
            start = feeder.done
            while feeder.done <= start + threads:  # the worker is started and warm once it scanned some
                if time.monotonic() > deadline:
                    raise RuntimeError("the faces service scanned nothing within 120 s")
                time.sleep(0.05)
            done0, t0, cpu0 = feeder.done, time.perf_counter(), cpu_seconds(faces_proc.pid)
            with_faces += [publish_one(publisher, store, next(queue)) for _ in range(per_round)]
            faces_cpu += cpu_seconds(faces_proc.pid) - cpu0
            t1 = time.perf_counter()
            cpu_scans += feeder.done - done0
            between, span = rate(feeder.changes, t0, t1)
            if not span:  # fewer than two batches finished: what the whole window saw
                between, span = feeder.done - done0, t1 - t0
            scanned += between
            seconds += span
            feeder.stop.set()
            feeder.join()
            faces_proc.send_signal(signal.SIGTERM)
            faces_proc.wait(30)
            faces_proc = None
    finally:
        for proc in (publisher_proc, faces_proc):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
        store.close()
    return {"index_keeps_up": round(scanned / seconds, 2),
            "publish_p95_s_alone": round(p95(alone), 3),
            "publish_p95_s_with_faces": round(p95(with_faces), 3),
            "publish_p50_s_alone": round(statistics.median(alone), 3),
            "publish_p50_s_with_faces": round(statistics.median(with_faces), 3),
            "publish_p95_regression": round(p95(with_faces) / p95(alone) - 1, 3),
            "keepup_photos_published": len(alone) + len(with_faces), "keepup_scanned": scanned,
            "index_cpu_s_per_photo": round(faces_cpu / cpu_scans, 3) if cpu_scans else None,
            "publisher_cores_busy": round(publisher_cpu / alone_seconds, 2)}
