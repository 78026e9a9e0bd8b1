"""Files by their content: sha256 digests, and snapshots of a tree to prove nothing changed."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    """Every file under ``root`` with its sha256, size and mtime (ns): to prove nothing changed."""
    result: dict[str, tuple[str, int, int]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            st = path.stat()
            result[str(path.relative_to(root))] = (sha256(path), st.st_size, st.st_mtime_ns)
        elif path.is_dir():
            result[str(path.relative_to(root)) + "/"] = ("dir", 0, path.stat().st_mtime_ns)
    return result
