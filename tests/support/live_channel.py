"""The gallery's live channel (functions/_live/, a Durable Object per event) running in workerd
through Miniflare from npm, for tests that need the real thing (``functions/_tools/live.mjs``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "functions" / "_tools" / "live.mjs"


class LiveChannel:
    """``with LiveChannel(secret) as ch:`` ch.url is its origin; ch.announced(event) what it said."""

    def __init__(self, secret: str, persist: Path | None = None, port: int = 0) -> None:
        if not shutil.which("node") or not (REPO / "functions" / "node_modules" / "miniflare").is_dir():
            if os.environ.get("CI"):
                raise RuntimeError("node or functions/node_modules missing (make test installs them)")
            pytest.skip("node or functions/node_modules missing: run `npm ci` in functions/")
        args = ["node", str(TOOL), "--port", str(port)] + (["--persist", str(persist)] if persist else [])
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env={**os.environ, "LIVE_SECRET": secret})
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.close()
            raise RuntimeError("the live channel did not start")
        self.url: str = json.loads(line)["url"]

    def announced(self, event: str) -> dict:
        """The event's last announcement (``version`` None before the first)."""
        with urllib.request.urlopen(f"{self.url}/live/{event}", timeout=10) as res:
            return json.loads(res.read())

    def notify(self, event: str, secret: str, version: int) -> None:
        """Announce a manifest version the way the appliance's sync service does."""
        from appliance.sync.live_notify import event_key, signature

        body = json.dumps({"id": f"test-{version}-{time.monotonic_ns()}", "version": version})
        request = urllib.request.Request(
            f"{self.url}/live/{event}/notify", data=body.encode(), method="POST",
            headers={"X-Live-Signature": signature(event_key(secret, event), int(time.time()), body)})
        with urllib.request.urlopen(request, timeout=10):
            pass

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> LiveChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
