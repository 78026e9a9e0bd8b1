"""Live import progress for the admin and the LEDs, read from the store.

Files and bytes done/total come from the ``imports`` row the importer updates a few times a second;
MB/s and ETA are derived from it here, so every reader computes them the same way.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..store import CardState, ImportState, Store
from ..store.imports import import_owner_alive
from .import_verdict import read_categories


def describe(row: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """One import as shown to people: counts, percent, MB/s, ETA (seconds) and its report."""
    now = time.time() if now is None else now
    started = row.get("started_ts") or now
    running = row["state"] == ImportState.RUNNING
    until = now if running else (row.get("updated_ts") or now)
    elapsed = max(until - started, 1e-6)
    done, total = row["bytes_done"], row["bytes_total"]
    rate = done / elapsed
    eta = (total - done) / rate if running and rate > 0 else (0.0 if not running else None)
    report = row.get("report") or "{}"
    return {
        "id": row["id"],
        "source": row["source"],
        "card_id": row.get("card_id"),
        "state": row["state"],
        "current_file": row.get("current_file"),
        "files_done": row["files_done"],
        "files_total": row["files_total"],
        "bytes_done": done,
        "bytes_total": total,
        "percent": round(100.0 * done / total, 1) if total else (0.0 if running else 100.0),
        "mb_per_s": round(rate / 1e6, 2),
        "eta_s": None if eta is None else round(eta, 1),
        "imported": row["imported"],
        "duplicates": row["duplicates"],
        "skipped": row["skipped"],
        "report": json.loads(report) if isinstance(report, str) else report,
    }


def running_imports(store: Store) -> list[dict[str, Any]]:
    """Imports in progress (whose process is alive), newest first."""
    return [describe(r) for r in store.running_import_rows() if import_owner_alive(r)]


def recent_imports(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """The latest imports with their reports (the per-card import report)."""
    return [describe(r) for r in store.recent_import_rows(limit)]


def cards(store: Store) -> list[dict[str, Any]]:
    """Cards seen lately with their state (``safe_to_remove`` once unmounted) and import."""
    out = []
    for row in store.recent_cards(20):
        imp = store.import_record(row["import_id"]) if row["import_id"] else None
        out.append({
            "id": row["id"], "uuid": row["uuid"], "label": row["label"], "fs_type": row["fs_type"],
            "device": row["device"], "state": row["state"], "error": row["error"],
            "safe_to_remove": row["state"] in (CardState.SAFE_TO_REMOVE, CardState.INTERRUPTED,
                                               CardState.ERROR),
            # unmounted, but do not format it: a file on it is unreadable, empty or failed
            "keep": bool(imp and imp["state"] != ImportState.RUNNING
                         and not read_categories(_report(imp), imp["state"])["safe_to_remove"]),
            "import": describe(imp) if imp else None,
        })
    return out


def _report(row: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(json.loads(row.get("report") or "{}"))
    except ValueError:
        return {}


def ingest_status(store: Store) -> dict[str, Any]:
    """Everything the LEDs and the admin need about ingest in one read."""
    running = running_imports(store)
    card_list = cards(store)
    return {
        "importing": bool(running),
        "imports": running,
        "cards": card_list,
        "safe_to_remove": [c["label"] or c["uuid"] for c in card_list if c["safe_to_remove"]],
        "keep_cards": [c["label"] or c["uuid"] for c in card_list if c["safe_to_remove"] and c["keep"]],
        "busy_cards": [c["label"] or c["uuid"] for c in card_list
                       if c["state"] in (CardState.MOUNTING, CardState.IMPORTING)],
    }
