"""The sync service's last hour for the admin's chart: jobs queued and done per minute (from the
outbox's own timestamps) and failed bucket attempts per minute (``sync_minutes``, kept a day)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .connection import StoreBase

KEEP_MINUTES = 24 * 60  # failure counts older than a day are dropped as new ones arrive


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SyncHistory(StoreBase):
    """Per-minute sync figures."""

    def count_sync_failure(self, now: float) -> None:
        """One failed bucket attempt at ``now`` (epoch seconds)."""
        minute = int(now // 60)
        self.conn.execute(
            "INSERT INTO sync_minutes (minute, failed) VALUES (?, 1) "
            "ON CONFLICT (minute) DO UPDATE SET failed = failed + 1", (minute,),
        )
        self.conn.execute("DELETE FROM sync_minutes WHERE minute < ?", (minute - KEEP_MINUTES,))

    def sync_minutes(self, since: float) -> dict[int, dict[str, int]]:
        """Minute (epoch seconds // 60) -> {queued, done, uploaded, failed} for every minute from
        ``since`` with something in it. ``queued``: jobs that entered the outbox (cancelled ones
        left out); ``done``: jobs that left it (confirmed or refused); ``uploaded``: files the
        bucket confirmed; ``failed``: attempts that failed (each is retried)."""
        out: dict[int, dict[str, int]] = {}

        def add(rows: list[Any], key: str) -> None:
            for minute, n in rows:
                out.setdefault(int(minute), {"queued": 0, "done": 0, "uploaded": 0, "failed": 0})[key] = n

        start = _iso(since)
        add(self.conn.execute(
            "SELECT CAST(strftime('%s', created_at) AS INTEGER) / 60 AS m, COUNT(*) FROM jobs "
            "WHERE created_at >= ? AND state != 'cancelled' GROUP BY m", (start,)).fetchall(), "queued")
        add(self.conn.execute(
            "SELECT CAST(strftime('%s', done_at) AS INTEGER) / 60 AS m, COUNT(*) FROM jobs "
            "WHERE done_at >= ? AND state IN ('done', 'refused') GROUP BY m", (start,)).fetchall(), "done")
        add(self.conn.execute(
            "SELECT CAST(strftime('%s', done_at) AS INTEGER) / 60 AS m, COUNT(*) FROM jobs "
            "WHERE done_at >= ? AND state = 'done' AND kind = 'upload' GROUP BY m", (start,)).fetchall(),
            "uploaded")
        add(self.conn.execute(
            "SELECT minute, failed FROM sync_minutes WHERE minute >= ?", (int(since // 60),)).fetchall(),
            "failed")
        return out
