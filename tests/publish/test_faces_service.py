"""`appliance faces` as systemd runs it (real NOTIFY_SOCKET): ready without a worker, the Node worker
started for work and stopped when idle, a killed worker replaced, the index written, SIGTERM clean."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.config import write_local_config
from support.faces import demo_photo, engine_or_skip
from support.polling import wait_for
from support.publications import publish_many
from support.services import NotifyListener

from appliance.config import load
from appliance.ingest.importer import Importer
from appliance.publish import face_index, face_settings
from appliance.store import Store

pytestmark = pytest.mark.slow


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def node_children(pid: int) -> list[int]:
    return [c for c in children(pid) if "worker.mjs" in Path(f"/proc/{c}/cmdline").read_bytes().decode()]


def test_service_indexes_with_a_supervised_worker(tmp_path: Path) -> None:
    engine_or_skip()
    path = write_local_config(tmp_path, '[event]\nslug = "party"\n'
                                        '[faces]\nidle_seconds = 1\npoll_seconds = 0.2\n')
    config = load(path)
    config.ensure_folders()
    store = Store(config.db_path)
    store.ensure_event("party", "Party")
    card = tmp_path / "card"
    card.mkdir()
    for name in ("sample1.jpg", "sample6.jpg"):
        shutil.copy(demo_photo(name), card / name)
    Importer(config, store).import_tree(card)
    photos = [r["id"] for r in store.rows("SELECT id FROM photos ORDER BY id")]

    notify = NotifyListener()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
           "NOTIFY_SOCKET": notify.path, "APPLIANCE_CONFIG": str(path), "PYTHONFAULTHANDLER": "1",
           "WATCHDOG_USEC": "4000000"}  # pings every second, also while the worker computes
    log = open(tmp_path / "faces.log", "ab")  # noqa: SIM115
    service = subprocess.Popen([sys.executable, "-m", "appliance", "faces"], env=env, stdout=log, stderr=log)
    try:
        notify.wait_ready()
        assert node_children(service.pid) == []  # face search is off everywhere: no worker
        event_id = store.current_event()["id"]
        face_settings.save(store, event_id, face_settings.FaceSettings(True))
        first, second = publish_many(config, store, photos)
        store.set_live(first["id"])  # as the sync does once the bucket has the photo's files
        store.set_live(second["id"])
        started = time.monotonic()
        [worker] = wait_for(lambda: node_children(service.pid), 30, "the worker to start")
        os.kill(worker, signal.SIGKILL)  # a crashed worker: the photo is tried again with a new one
        wait_for(lambda: store.scalar("SELECT COUNT(*) FROM face_scans") == 2, 180, "both photos scanned")
        assert store.scalar("SELECT COUNT(*) FROM faces") == 3 + 4
        assert store.scalar("SELECT COUNT(*) FROM face_scans WHERE error IS NOT NULL") == 0
        index = config.folder("web") / "party" / "faces.bin"
        # the file first, then its record and upload job (a crash in between rewrites it)
        wait_for(lambda: store.job_pending("upload", "events/party/faces.bin"), 30, "the index's upload")
        names, faces = face_index.decode(index.read_bytes())
        assert names == [first["name"], second["name"]] and len(faces) == 7
        wait_for(lambda: node_children(service.pid) == [], 30, "the idle worker to stop")
        pings = notify.pings(started, time.monotonic())
        assert pings and max(b - a for a, b in zip([started, *pings], pings, strict=False)) < 4
        assert any("photos scanned" in text for _, text in notify.fields("STATUS"))
        service.send_signal(signal.SIGTERM)
        assert service.wait(30) == 0
    finally:
        if service.poll() is None:
            service.send_signal(signal.SIGABRT)
            service.wait(10)
        notify.close()
        store.close()
