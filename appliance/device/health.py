"""Conditions that need the photographer's attention, shared by the status LED and ``appliance doctor``."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..config import Config

DATA_FOLDERS = ("buffer", "web", "trash", "archive", "state")
MIN_FREE_BYTES = 512 * 1024 * 1024  # below this the buffer is "full": imports would fail
# Bucket answers that no retry will fix: wrong credentials, no such bucket.
AUTH_ERRORS = ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken",
               "Unauthorized", "401", "403")
MISSING_BUCKET_ERRORS = ("NoSuchBucket", "404")


def unwritable_folders(config: Config) -> list[str]:
    """Data folders that cannot be created or written (checked by creating a temp file)."""
    problems = []
    for name in DATA_FOLDERS:
        folder = config.folder(name)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
                pass
        except OSError as exc:
            problems.append(f"{name} folder {folder} is not writable: {exc.strerror or exc}")
    return problems


def free_bytes(config: Config) -> dict[Path, int]:
    """Free bytes on each distinct file system holding a data folder."""
    seen: dict[int, Path] = {}
    free: dict[Path, int] = {}
    for name in DATA_FOLDERS:
        folder = config.folder(name)
        probe = folder if folder.exists() else _existing_parent(folder)
        try:
            dev = os.stat(probe).st_dev
        except OSError:
            continue
        if dev in seen:
            continue
        seen[dev] = probe
        free[folder] = shutil.disk_usage(probe).free
    return free


def disk_problems(config: Config, min_free: int = MIN_FREE_BYTES) -> list[str]:
    return [f"disk nearly full: {folder} has {bytes_text(left)} free (needs {bytes_text(min_free)})"
            for folder, left in free_bytes(config).items() if left < min_free]


def bucket_problem(status: dict[str, Any]) -> str | None:
    """An unfixable-by-retry bucket error from the sync service, if it is the latest word."""
    error = status.get("last_error") or ""
    error_at = status.get("last_error_at") or ""
    success_at = status.get("last_success_at") or ""
    if not error or (success_at and success_at >= error_at):
        return None
    code = error.split(":", 1)[0].strip()
    if code in AUTH_ERRORS:
        return f"bucket refused the credentials ({error})"
    if code in MISSING_BUCKET_ERRORS:
        return f"bucket does not exist ({error})"
    return None


def attention(config: Config, store: Any, min_free: int = MIN_FREE_BYTES) -> list[str]:
    """Everything that needs a person: disk full, bucket credentials refused, bucket missing, a bad
    appliance.toml on the boot partition."""
    from .firstboot import problems as boot_file_problems

    problems = disk_problems(config, min_free) + boot_file_problems(store)
    sync = store.sync_state()
    problem = bucket_problem(sync)
    if problem:
        problems.append(problem)
    return problems


def bytes_text(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
