"""The import report as the admin shows it: the card banner's state and each import's files by
category (:mod:`appliance.ingest.import_verdict`), with names people recognise and failures in
plain words (the raw error kept as details)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

from ..ingest.import_verdict import LABELS, Category, read_categories
from ..store import ImportStatus, Store
from ..store.sources import SourceKind, parse_source
from .plain_errors import plain

RECENT_IMPORT = timedelta(minutes=30)
TITLES = {SourceKind.CARD: "Card", SourceKind.HOT_FOLDER: "Hot folder", SourceKind.FTP: "FTP camera",
          SourceKind.TETHER: "USB camera"}
ROW_COUNTS = (("imported", Category.IMPORTED), ("duplicates", Category.DUPLICATES))


def short_name(path: str) -> str:
    """A file as the photographer knows it: from DCIM/ on a card, else its name."""
    parts = PurePosixPath(path).parts
    for i, part in enumerate(parts):
        if part.lower() == "dcim":
            return "/".join(parts[i:])
    return parts[-1] if parts else path


def _file(entry: dict[str, str], category: str) -> dict[str, str]:
    out = {"name": short_name(entry["name"]), "reason": entry["reason"]}
    if category == Category.FAILED:  # an OS or library error: said plainly, the raw text kept
        out.update(reason=plain(entry["reason"], "import"), details=entry["reason"])
    return out


def report_view(row: dict[str, Any]) -> dict[str, Any]:
    """One stored import as the report card shows it: ``counts`` (in report order, with their
    ``labels``), ``files`` per category, ``safe_to_remove`` and the ``verdict`` sentence."""
    try:
        summary = json.loads(row.get("report") or "{}")
    except ValueError:
        summary = {}
    if "counts" not in summary:  # an older report (or none): the row's own counts fill in
        for key, _ in ROW_COUNTS:
            summary.setdefault(key, row.get(key) or 0)
        summary.setdefault("message", row.get("message") or "")
    read = read_categories(summary, row["state"])
    order = [c.value for c in Category if read["counts"].get(c.value)]
    return {
        "title": TITLES.get(parse_source(row["source"]).kind, "Folder"),
        "source": row["source"],
        "counts": {c: read["counts"][c] for c in order},
        "labels": {c: LABELS[Category(c)] for c in order},
        "files": {c: [_file(f, c) for f in read["files"].get(c, [])] for c in order},
        "safe_to_remove": read["safe_to_remove"],
        "verdict": read["verdict"],
    }


def card_state(store: Store, now: datetime | None = None) -> dict[str, Any]:
    """Import progress of the inserted card and, once done, its report and whether the card may
    be removed (only when every file was imported and verified or deliberately ignored)."""
    imports = store.import_overview()
    running = imports["running"]
    if running:
        return {
            "state": ImportStatus.IMPORTING,
            "source": running["source"],
            "files_done": running["files_done"],
            "files_total": running["files_total"],
            "bytes_done": running["bytes_done"],
            "bytes_total": running["bytes_total"],
            "imported": imports["imported"],
            "safe_to_remove": False,
        }
    last = imports["last"]
    now = now or datetime.now(UTC)
    cutoff = (now - RECENT_IMPORT).strftime("%Y-%m-%dT%H:%M:%SZ")
    if last and last["finished_at"] and last["finished_at"] >= cutoff:
        report = report_view(last)
        return {
            "state": ImportStatus.DONE,
            "import_id": last["id"],
            "source": last["source"],
            "finished_at": last["finished_at"],
            "imported": last["imported"],
            "duplicates": last["duplicates"],
            "skipped": last["skipped"],
            "report": report,
            "safe_to_remove": report["safe_to_remove"],
        }
    return {"state": ImportStatus.IDLE, "safe_to_remove": True}
