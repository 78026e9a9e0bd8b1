"""Readiness, STATUS and watchdog over a real NOTIFY_SOCKET, with every service as a subprocess.

The test binds the datagram socket systemd would bind, starts the service with ``NOTIFY_SOCKET``
and ``WATCHDOG_USEC`` set, and reads what the service says: READY=1 only once it can do its work,
WATCHDOG=1 from its main loop (a wedged loop stops the pings), STOPPING=1 on SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from support.config import write_config
from support.services import NotifyListener, free_port

from appliance.config import load
from appliance.store import MIGRATIONS, Store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def listener() -> Iterator[NotifyListener]:
    lis = NotifyListener()
    yield lis
    lis.close()


def start(command: list[str], config: Path, listener: NotifyListener, tmp_path: Path,
          watchdog_s: float = 1.0, **env: str) -> subprocess.Popen:
    environ = {**os.environ, "NOTIFY_SOCKET": listener.path,
               "WATCHDOG_USEC": str(int(watchdog_s * 1_000_000)), "PYTHONPATH": str(ROOT),
               "APPLIANCE_CONFIG": str(config), **env}
    environ.pop("WATCHDOG_PID", None)
    log = open(tmp_path / f"{command[0]}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", "appliance", *command], env=environ,
                            stdout=log, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen, listener: NotifyListener | None = None) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def max_gap(times: list[float]) -> float:
    return max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)


@pytest.fixture
def config_path(tmp_path: Path, moto_url: str, bucket: str) -> Path:
    return write_config(tmp_path, moto_url, bucket)


def test_publisher_ready_after_store_is_migrated_and_a_wedged_loop_stops_the_pings(
        config_path: Path, listener: NotifyListener, tmp_path: Path) -> None:
    config = load(config_path)
    seen_at_ready: dict[str, object] = {}

    def on_message(text: str) -> None:
        if "READY=1" in text:  # what the store looked like the moment READY arrived
            with sqlite3.connect(config.db_path) as conn:
                seen_at_ready["schema"] = conn.execute("PRAGMA user_version").fetchone()[0]
                seen_at_ready["record"] = conn.execute(
                    "SELECT value FROM settings WHERE key = 'service:publisher'").fetchone()

    listener.on_message = on_message
    proc = start(["publisher"], config_path, listener, tmp_path)
    try:
        ready_at, status = listener.wait("READY", "1")
        assert seen_at_ready["schema"] == len(MIGRATIONS)
        assert seen_at_ready["record"] and '"ready"' in seen_at_ready["record"][0]
        assert "waiting for publish requests" in listener.wait("STATUS", "waiting")[1]
        time.sleep(2.0)
        healthy = listener.pings(ready_at, time.monotonic())
        assert len(healthy) >= 5 and max_gap(healthy) < 1.0, healthy

        # Wedge the main loop: hold the write lock so the publisher's next claim blocks inside
        # SQLite's busy wait (up to 10 s). Nothing else may ping on its behalf meanwhile.
        blocker = sqlite3.connect(config.db_path, timeout=1, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        wedged_at = time.monotonic()
        time.sleep(3.5)
        blocker.execute("ROLLBACK")
        blocker.close()
        released_at = time.monotonic()
        during = listener.pings(wedged_at + 1.0, released_at)
        assert during == [], f"pings while the loop was wedged: {during}"
        listener.wait("WATCHDOG", "1", timeout=5, after=released_at)  # the loop turns again
        assert proc.poll() is None
    finally:
        code = stop(proc)
    assert code == 0
    listener.wait("STOPPING", "1", timeout=5)


def test_service_that_cannot_write_its_folders_never_says_ready(
        tmp_path: Path, moto_url: str, bucket: str, listener: NotifyListener) -> None:
    config_path = write_config(tmp_path, moto_url, bucket)
    data = tmp_path / "data"
    data.mkdir()
    (data / "state").write_text("a file where the state folder should be")
    proc = start(["importer"], config_path, listener, tmp_path)
    assert proc.wait(timeout=30) == 73
    assert listener.fields("READY") == []
    assert any("state folder" in value for _, value in listener.fields("STATUS"))
    assert (data / "state").read_text().startswith("a file")  # nothing lost


def test_importer_reports_imports_and_card_presence(
        config_path: Path, listener: NotifyListener, tmp_path: Path, samples: Path) -> None:
    proc = start(["importer"], config_path, listener, tmp_path)
    try:
        ready_at, status = listener.wait("READY", "1")
        assert "watching" in listener.wait("STATUS", "watching")[1]
        photo = next(iter(sorted((samples / "gps").glob("*.jpg"))))
        (tmp_path / "card" / photo.name).write_bytes(photo.read_bytes())
        listener.wait("STATUS", "1 imported", timeout=30)
        store = Store(load(config_path).db_path)
        assert store.get_setting("card")["present"] is True
        store.close()
    finally:
        assert stop(proc) == 0


def test_sync_without_a_bucket_fails_as_a_config_error_and_never_says_ready(
        tmp_path: Path, listener: NotifyListener) -> None:
    config_path = tmp_path / "appliance.toml"
    config_path.write_text('[paths]\ndata_root = "data"\n')
    proc = start(["sync"], config_path, listener, tmp_path)
    assert proc.wait(timeout=30) == 78
    assert listener.fields("READY") == []
    assert any("bucket" in value for _, value in listener.fields("STATUS"))


def test_sync_ready_once_the_bucket_client_is_built_then_reports_online(
        config_path: Path, listener: NotifyListener, tmp_path: Path) -> None:
    proc = start(["sync"], config_path, listener, tmp_path)
    try:
        listener.wait("READY", "1")
        listener.wait("STATUS", "online, 0 queued", timeout=15)
        ready_at = listener.wait("READY", "1")[0]
        time.sleep(1.5)
        assert len(listener.pings(ready_at, time.monotonic())) >= 3
    finally:
        assert stop(proc) == 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_gunicorn_arbiter_says_ready_and_pings_only_while_workers_live(
        config_path: Path, listener: NotifyListener, tmp_path: Path) -> None:
    port = free_port()
    proc = start(["admin", "--bind", f"127.0.0.1:{port}"], config_path, listener, tmp_path,
                 watchdog_s=1.0, APPLIANCE_ADMIN_TIMEOUT="4", APPLIANCE_ADMIN_WORKERS="1")
    try:
        ready_at, _ = listener.wait("READY", "1", timeout=30)  # sent by gunicorn's arbiter
        health = None
        for _ in range(50):
            try:
                health = requests.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert health is not None and health.json()["ok"] is True
        listener.wait("STATUS", "serving the admin", timeout=10)
        time.sleep(1.5)
        assert len(listener.pings(ready_at, time.monotonic())) >= 3

        workers = _children(proc.pid)
        assert workers, "no gunicorn worker found"
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)  # wedge every worker: no heartbeat any more
        stopped_at = time.monotonic()
        listener.wait("STATUS", "no worker is answering", timeout=10, after=stopped_at)
        silent_from = listener.wait("STATUS", "no worker is answering", after=stopped_at)[0]
        # gunicorn kills the stuck workers after its timeout and boots new ones; pings resume.
        resumed_at, _ = listener.wait("WATCHDOG", "1", timeout=20, after=silent_from + 0.01)
        around = listener.pings(stopped_at, resumed_at)
        assert max_gap(around) >= 1.0, around  # pings every 0.25 s, then a silence of seconds
        assert listener.pings(silent_from + 0.01, resumed_at - 0.01) == []
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        assert proc.poll() is None
    finally:
        stop(proc)


def test_gpio_service_shows_starting_until_the_core_services_are_ready(
        config_path: Path, listener: NotifyListener, tmp_path: Path) -> None:
    from appliance.device.systemd import CORE_SERVICES, boot_id

    proc = start(["gpio"], config_path, listener, tmp_path)
    try:
        listener.wait("READY", "1")
        assert "LED starting" in listener.wait("STATUS", "LED")[1]
        store = Store(load(config_path).db_path)
        for name in CORE_SERVICES:
            store.set_setting(f"service:{name}", {"state": "ready", "boot_id": boot_id()})
        store.close()
        listener.wait("STATUS", "LED ready: every photo is in the bucket", timeout=10)
    finally:
        assert stop(proc) == 0
