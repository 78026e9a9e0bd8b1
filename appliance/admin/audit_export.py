"""The audit log as a download (CSV for a spreadsheet, JSON for scripts), newest entry last."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import Response

from ..store import Store

COLUMNS = ("id", "at", "user_name", "role", "action", "method", "path", "photo_ids", "detail", "event_id",
           "client")
PAGE = 1000


def all_entries(store: Store) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    before = None
    while page := store.audit_log(before_id=before, limit=PAGE):
        entries += page
        before = page[-1]["id"]
    return entries[::-1]


def audit_response(store: Store, fmt: str) -> Response:
    entries = all_entries(store)
    event = store.current_event()
    stem = f"audit-{event['slug'] if event else 'appliance'}"
    if fmt == "json":
        text = json.dumps({"entries": entries}, indent=1)
        mimetype = "application/json"
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for e in entries:
            writer.writerow({**e, "photo_ids": " ".join(map(str, e["photo_ids"])),
                             "detail": json.dumps(e["detail"], sort_keys=True)})
        text, mimetype = out.getvalue(), "text/csv"
    return Response(text, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{stem}.{fmt}"', "Cache-Control": "no-store"})
