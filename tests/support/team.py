"""Several appliances against one bucket, each with its own folder, config and store: in this
process (:class:`LocalAppliance`) or as real processes driven through the ``appliance`` command line
(team share/join, import, publish, delete-all) with its sync service running
(:class:`ApplianceProcess`; tests/system/test_multi_appliance.py and bench/multi.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from appliance.config import Config
from appliance.store import Store, open_store
from appliance.sync.syncer import Syncer
from support.config import bucket_config, write_config
from support.publications import import_samples, publish_many

PASSPHRASE = "correct horse battery staple"


class ApplianceProcess:
    """One appliance: ``run(...)`` runs an ``appliance`` command; ``start_sync()`` its sync service."""

    def __init__(self, folder: Path, endpoint: str, bucket: str, name: str, extra: str = "") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.name = folder, name
        self.config_path = write_config(folder, endpoint, bucket, extra)
        self.env = {**os.environ, "APPLIANCE_CONFIG": str(self.config_path), "PYTHONUNBUFFERED": "1"}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.id = self.run("team", "id").strip()

    def run(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([sys.executable, "-m", "appliance", *args], env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{self.name}: appliance {' '.join(args)} exited {done.returncode}: "
                               f"{done.stderr}")
        return done.stdout

    def start(self, service: str, *args: str) -> None:
        log = open(self.folder / f"{service}.log", "wb")  # noqa: SIM115 - closed with the process
        self.procs[service] = subprocess.Popen([sys.executable, "-m", "appliance", service, *args],
                                               env=self.env, stdout=log, stderr=log)

    def stop(self, service: str) -> None:
        proc = self.procs.pop(service, None)
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        for service in list(self.procs):
            self.stop(service)

    def import_files(self, files: list[Path]) -> list[int]:
        """Import ``files`` as a card; returns the new photo ids."""
        card = self.folder / "card-import"
        card.mkdir(exist_ok=True)
        for f in card.iterdir():
            f.unlink()
        for f in files:
            (card / f.name).write_bytes(f.read_bytes())
        self.run("import", str(card), "--json")
        return [int(self.store_rows("SELECT id FROM photos WHERE original_name = ? ORDER BY id DESC",
                                    (f.name,))[0]["id"]) for f in files]

    def store_rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        from appliance.store import Store

        store = Store(self.folder / "data" / "state" / "appliance.db")
        try:
            return store.rows(sql, params)
        finally:
            store.close()


class LocalAppliance:
    """An appliance in this process: its own folder, config and store; publishes camera samples
    through the real pipeline and drains its outbox with the real syncer."""

    def __init__(self, folder: Path, endpoint: str, bucket: str, samples: Path) -> None:
        folder.mkdir(parents=True)
        self.config: Config = bucket_config(folder, endpoint, bucket)
        self.store: Store = open_store(self.config)
        self.id = self.store.appliance_id()
        self.samples = samples

    def publish(self, names: list[str]) -> list[dict[str, Any]]:
        import_samples(self.config, self.store, self.samples, names)
        ids = [self.store.scalar("SELECT id FROM photos WHERE original_name = ?", (n,)) for n in names]
        return publish_many(self.config, self.store, ids)

    def sync(self) -> None:
        assert Syncer(self.config, self.store).drain_once() == 0

    def close(self) -> None:
        self.store.close()


def make_team(root: Path, endpoint: str, bucket: str, count: int, extra: str = "") -> list[ApplianceProcess]:
    """``count`` appliances in event "wedding": the first shares it, the others join with its code;
    each credits its photographer ("Photographer A", "B"...)."""
    team = [ApplianceProcess(root / f"appliance-{chr(97 + i)}", endpoint, bucket, chr(65 + i), extra)
            for i in range(count)]
    for app in team:
        app.run("credits", "--artist", f"Photographer {app.name}")
    code = team[0].run("team", "share", stdin=PASSPHRASE + "\n").strip().splitlines()[-1]
    for app in team[1:]:
        app.run("team", "join", code, stdin=PASSPHRASE + "\n")
    return team
