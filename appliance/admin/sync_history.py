"""The sync status chart's data: the last hour minute by minute (queue depth at the end of each
minute, files uploaded, failed bucket attempts) and the uplink state (online, last contact).

The queue depth of a past minute is rebuilt from today's depth and the jobs queued and done since
then (cancelled uploads are left out, so it is close, not exact, across an unpublish).
"""

from __future__ import annotations

import time
from typing import Any

from flask import jsonify

from ..store import Store
from . import get_store
from .auth import session_blueprint
from .errors import int_arg

bp = session_blueprint("sync_history", __name__, url_prefix="/api")


def history(store: Store, now: float, minutes: int = 60) -> dict[str, Any]:
    """``series``: one entry per minute, oldest first, the last one being the current minute."""
    current = int(now // 60)
    first = current - minutes + 1
    counts = store.sync_minutes(first * 60)
    depth = store.queue_depth()
    zero = {"queued": 0, "done": 0, "uploaded": 0, "failed": 0}
    series: list[dict[str, Any]] = []
    pending = depth["jobs"]  # the depth at the end of the minute being walked (newest first)
    for minute in range(current, first - 1, -1):
        c = counts.get(minute, zero)
        series.append({"t": minute * 60, "queued": max(pending, 0), "added": c["queued"],
                       "uploaded": c["uploaded"], "failed": c["failed"]})
        pending += c["done"] - c["queued"]
    series.reverse()
    sync = store.sync_state()
    return {
        "now": now,
        "minutes": minutes,
        "series": series,
        "totals": {k: sum(s[k] for s in series) for k in ("added", "uploaded", "failed")},
        "queue": depth,
        "uplink": {
            "online": None if sync.get("online") is None else bool(sync["online"]),
            "last_contact_at": sync.get("last_contact_at"),
            "last_success_at": sync.get("last_success_at"),
            "last_error": sync.get("last_error"),
            "last_error_at": sync.get("last_error_at"),
        },
    }


@bp.get("/sync/history")
def sync_history() -> Any:
    """The chart's data; ``?minutes=`` from 5 to 1440 (default 60)."""
    return jsonify(history(get_store(), time.time(), int_arg("minutes", 60, 5, 1440)))
