"""The import report as the admin shows it: the card banner's state and each import's files by
category (:mod:`appliance.ingest.import_verdict`), with names people recognise and failures in
plain words (the raw error kept as details)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

from ..ingest.import_verdict import FILES_SHOWN, LABELS, Category, read_categories, verdict
from ..store import ImportStatus, Store
from ..store.sources import SourceKind, parse_source
from .plain_errors import plain

RECENT_IMPORT = timedelta(minutes=30)
BURST_GAP = timedelta(minutes=5)  # a camera quiet this long ends its burst of frames
CAMERA_KINDS = (SourceKind.FTP.value, SourceKind.TETHER.value)
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


def _read(row: dict[str, Any]) -> dict[str, Any]:
    """A stored import's categories (an older report, or none: the row's own counts fill in)."""
    try:
        summary = json.loads(row.get("report") or "{}")
    except ValueError:
        summary = {}
    if "counts" not in summary:
        for key, _ in ROW_COUNTS:
            summary.setdefault(key, row.get(key) or 0)
    return read_categories(summary, row["state"])


def _view(source: str, counts: dict[str, int], files: dict[str, list[dict[str, str]]], safe: bool,
          said: str) -> dict[str, Any]:
    order = [c.value for c in Category if counts.get(c.value)]
    return {
        "title": TITLES.get(parse_source(source).kind, "Folder"),
        "source": source,
        "counts": {c: counts[c] for c in order},
        "labels": {c: LABELS[Category(c)] for c in order},
        "files": {c: [_file(f, c) for f in files.get(c, [])] for c in order},
        "safe_to_remove": safe,
        "verdict": said,
    }


def report_view(row: dict[str, Any]) -> dict[str, Any]:
    """One stored import as the report card shows it: ``counts`` (in report order, with their
    ``labels``), ``files`` per category, ``safe_to_remove`` and the ``verdict`` sentence."""
    read = _read(row)
    return _view(row["source"], read["counts"], read["files"], read["safe_to_remove"], read["verdict"])


def _when(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def camera_reports(store: Store, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each camera's latest burst of frames (FTP, USB tether; one small import per burst) in the
    last 30 minutes, as one report: its imports back to a pause longer than :data:`BURST_GAP`."""
    now = now or datetime.now(UTC)
    since = (now - RECENT_IMPORT).strftime("%Y-%m-%dT%H:%M:%SZ")
    bursts: dict[str, list[dict[str, Any]]] = {}
    ended: set[str] = set()  # sources whose latest burst is complete (a pause was found)
    for row in store.imports_of_kinds_since(CAMERA_KINDS, since):  # newest first
        source = row["source"]
        if source in ended:
            continue
        burst = bursts.setdefault(source, [])
        if burst and _when(burst[-1]["finished_at"]) - _when(row["finished_at"]) > BURST_GAP:
            ended.add(source)
            continue
        burst.append(row)
    out = []
    for source, rows in bursts.items():
        counts: dict[str, int] = {}
        files: dict[str, list[dict[str, str]]] = {}
        for row in reversed(rows):  # oldest first, like the camera shot them
            read = _read(row)
            for category, n in read["counts"].items():
                counts[category] = counts.get(category, 0) + n
            for category, entries in read["files"].items():
                files.setdefault(category, []).extend(entries)
        files = {c: entries[-FILES_SHOWN:] for c, entries in files.items()}
        done = all(r["state"] == "done" for r in rows)
        safe, said = verdict("done" if done else "interrupted", counts)
        view = _view(source, counts, files, safe, said)
        view.update(since=rows[-1]["finished_at"], until=rows[0]["finished_at"],
                    name=parse_source(source).name)
        out.append(view)
    return out


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
