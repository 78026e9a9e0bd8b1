"""The gallery's live channel for ``make demo``: the Worker in functions/_live/ run in workerd
(Miniflare from npm, ``functions/_tools/live.mjs``), so published photos reach open galleries by
push as they will from Cloudflare."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "functions" / "_tools" / "live.mjs"


def missing() -> str | None:
    """Why the channel cannot run here (None: it can)."""
    if not TOOL.is_file():
        return f"{TOOL} not found (not a source checkout)"
    if not shutil.which("node"):
        return "node is not installed"
    if not (REPO / "functions" / "node_modules" / "miniflare").is_dir():
        return "functions/node_modules is missing (run `npm ci` in functions/)"
    return None


def demo_secret(root: Path) -> str:
    """The demo's LIVE_SECRET: made once, kept in demo/ (0600)."""
    kept = root / "live-secret.txt"
    secret = kept.read_text().strip() if kept.exists() else secrets.token_urlsafe(24)
    kept.write_text(secret + "\n")
    kept.chmod(0o600)
    return secret


def start(root: Path, port: int, secret: str) -> tuple[subprocess.Popen[str], str]:
    """Start the channel on 127.0.0.1:``port``; returns the process and its origin URL."""
    proc = subprocess.Popen(
        ["node", str(TOOL), "--port", str(port), "--persist", str(root / "live-state")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, "LIVE_SECRET": secret},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=10)
        raise RuntimeError(f"the live channel did not start (exit {proc.returncode})")
    return proc, json.loads(line)["url"]
