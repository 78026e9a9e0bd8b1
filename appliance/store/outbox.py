"""The sync outbox (``jobs``: uploads, deletes, manifest writes) and the sync service's state.

A job stays pending until the bucket answered; manifest jobs coalesce into one pending job per
event whose ``version`` counts the requests folded into it. The queries that walk pending jobs
spell ``state = 'pending'`` inline so SQLite uses the partial indexes of pending jobs.
"""

from __future__ import annotations

from typing import Any

from .connection import StoreBase, utcnow
from .states import JobState

Job = dict[str, Any]


class Outbox(StoreBase):
    """Outbox jobs and ``sync_state``."""

    # -- queueing -----------------------------------------------------------------------------
    def enqueue_manifest(self, event_id: int, key: str) -> None:
        """Ask for a manifest upload; coalesces into the one pending manifest job of the event."""
        self.conn.execute(
            "INSERT INTO jobs (kind, event_id, key, content_type, cache_control, created_at) "
            "VALUES ('manifest', ?, ?, 'application/json', 'public, max-age=5', ?) "
            "ON CONFLICT (event_id) WHERE kind = 'manifest' AND state = 'pending' "
            "DO UPDATE SET version = version + 1",
            (event_id, key, utcnow()),
        )

    def enqueue_notify(self, event_id: int, key: str) -> None:
        """Ask for a live notify of the event; folds into its pending one (``version`` + 1), so a
        notify already on its way is sent again with the newer manifest."""
        bumped = self.conn.execute(
            "UPDATE jobs SET version = version + 1 "
            "WHERE kind = 'notify' AND state = 'pending' AND event_id = ?", (event_id,),
        ).rowcount
        if not bumped:
            self.enqueue("notify", event_id, key)

    def due_notifies(self, due: float) -> list[Job]:
        """Pending live notifies whose retry time is at or before ``due``, oldest first."""
        return self.rows(
            "SELECT * FROM jobs WHERE state = 'pending' AND kind = 'notify' "
            "AND +next_attempt_at <= ? ORDER BY id", (due,),
        )

    def enqueue(self, kind: str, event_id: int, key: str, **fields: Any) -> None:
        fields.update(kind=kind, event_id=event_id, key=key, created_at=utcnow())
        self.conn.execute(
            f"INSERT INTO jobs ({', '.join(fields)}) VALUES ({', '.join('?' for _ in fields)})",
            tuple(fields.values()),
        )

    def cancel_pending_uploads(self, publication_id: int) -> int:
        """Cancel the uploads of a publication that have not gone out; returns how many."""
        return self.conn.execute(
            "UPDATE jobs SET state = ? WHERE publication_id = ? "
            "AND kind = 'upload' AND state = 'pending'",
            (JobState.CANCELLED, publication_id),
        ).rowcount

    # -- reading ------------------------------------------------------------------------------
    def job(self, job_id: int) -> Job | None:
        return self.row("SELECT * FROM jobs WHERE id = ?", (job_id,))

    def job_version(self, job_id: int) -> int | None:
        return self.scalar("SELECT version FROM jobs WHERE id = ?", (job_id,))

    def pending_manifest(self, event_id: int) -> Job | None:
        """The one pending manifest job of an event, if any."""
        return self.row("SELECT * FROM jobs WHERE kind = 'manifest' AND state = 'pending' "
                        "AND event_id = ?", (event_id,))

    def pending_manifests(self) -> list[Job]:
        return self.rows("SELECT * FROM jobs WHERE state = 'pending' AND kind = 'manifest'")

    def due_manifests(self, due: float) -> list[Job]:
        """Pending manifest jobs whose retry time is at or before ``due``, oldest first."""
        # (``+next_attempt_at``: walk the partial index of pending jobs in id order, no sort)
        return self.rows(
            "SELECT * FROM jobs WHERE state = 'pending' AND kind = 'manifest' "
            "AND +next_attempt_at <= ? ORDER BY id", (due,),
        )

    def due_deletes(self, due: float, limit: int) -> list[Job]:
        """Due pending deletes of events with no pending manifest (the manifest goes first)."""
        return self.rows(
            "SELECT * FROM jobs j WHERE state = 'pending' AND kind = 'delete' "
            "AND +next_attempt_at <= ? AND NOT EXISTS (SELECT 1 FROM jobs m WHERE "
            "m.kind = 'manifest' AND m.state = 'pending' AND m.event_id = j.event_id) "
            "ORDER BY id LIMIT ?", (due, limit),
        )

    def due_uploads(self, due: float, limit: int) -> list[Job]:
        return self.rows(
            "SELECT * FROM jobs WHERE state = 'pending' AND kind = 'upload' "
            "AND +next_attempt_at <= ? ORDER BY id LIMIT ?", (due, limit),
        )

    def next_attempt_after(self, now: float) -> float | None:
        """The soonest retry time of a pending job still in the future."""
        return self.scalar(
            "SELECT MIN(next_attempt_at) FROM jobs WHERE state = 'pending' AND next_attempt_at > ?",
            (now,),
        )

    def last_manifest_attempts(self) -> dict[int, float]:
        """When a manifest of each event was last sent to the bucket (epoch seconds)."""
        return {
            r["event_id"]: r["at"] for r in self.rows(
                "SELECT event_id, MAX(last_attempt_at) AS at FROM jobs "
                "WHERE kind = 'manifest' AND last_attempt_at IS NOT NULL GROUP BY event_id"
            )
        }

    def event_busy(self, event_id: int) -> bool:
        """Are photos of this event still being rendered or uploaded?"""
        return bool(self.scalar(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'pending' AND kind = 'upload' "
            "AND event_id = ?) OR EXISTS (SELECT 1 FROM publications WHERE event_id = ? "
            "AND state IN ('queued', 'processing'))", (event_id, event_id),
        ))

    def pending_uploads_of(self, publication_id: int) -> int:
        return int(self.scalar(
            "SELECT COUNT(*) FROM jobs WHERE publication_id = ? AND kind = 'upload' "
            "AND state = 'pending'", (publication_id,),
        ))

    def pending_jobs_of(self, event_id: int) -> int:
        return int(self.scalar(
            "SELECT COUNT(*) FROM jobs WHERE state = 'pending' AND event_id = ?", (event_id,)
        ))

    def job_pending(self, kind: str, key: str) -> bool:
        """Is a job of this kind on this key still pending?"""
        return bool(self.scalar(
            "SELECT 1 FROM jobs WHERE kind = ? AND key = ? AND state = 'pending'", (kind, key)
        ))

    def uploaded_for(self, publication_id: int, key: str) -> bool:
        """Was ``key`` ever queued for upload for this publication (safe mode's test)?"""
        return bool(self.scalar(
            "SELECT 1 FROM jobs WHERE kind = 'upload' AND publication_id = ? AND key = ?",
            (publication_id, key),
        ))

    def upload_owner(self, key: str) -> dict[str, Any] | None:
        """The publication (the newest) this appliance uploaded ``key`` for, if any."""
        return self.row(
            "SELECT p.* FROM jobs j JOIN publications p ON p.id = j.publication_id "
            "WHERE j.kind = 'upload' AND j.key = ? ORDER BY p.id DESC LIMIT 1", (key,),
        )

    def published_uploads(self, event_id: int) -> list[dict[str, Any]]:
        """The uploads (pending or done) of the event's published photos, with ``live_at``."""
        return self.rows(
            "SELECT j.key, j.path, j.content_type, j.cache_control, j.publication_id, p.live_at "
            "FROM jobs j JOIN publications p ON p.id = j.publication_id WHERE j.kind = 'upload' "
            "AND j.state IN ('pending', 'done') AND p.event_id = ? AND p.state = 'published' "
            "ORDER BY j.id", (event_id,),
        )

    def queue_depth(self) -> dict[str, int]:
        row = self.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM jobs WHERE state = 'pending'"
        ).fetchone()
        return {"jobs": int(row[0]), "bytes": int(row[1])}

    # -- outcomes -----------------------------------------------------------------------------
    def finish_job(self, job_id: int, etag: str | None, now: float, version: int | None = None) -> bool:
        """A pending upload, delete or notify that went through; False when it was no longer
        pending. With ``version``, it stays pending when it was asked for again since."""
        return self.conn.execute(
            "UPDATE jobs SET state = CASE WHEN ? IS NULL OR version = ? THEN 'done' ELSE state END, "
            "done_at = ?, etag = ?, last_error = NULL, last_attempt_at = ? "
            "WHERE id = ? AND state = 'pending'",
            (version, version, utcnow(), etag, now, job_id),
        ).rowcount == 1

    def finish_manifest_job(self, job_id: int, version: int, etag: str | None, now: float) -> None:
        """A manifest write the bucket confirmed: done only if nothing asked for a newer manifest
        since this one was built (``version``); counted in ``sync_state.manifest_puts``."""
        self.conn.execute("UPDATE sync_state SET manifest_puts = manifest_puts + 1 WHERE id = 1")
        self.conn.execute(
            "UPDATE jobs SET state = CASE WHEN version = ? THEN 'done' ELSE state END, "
            "done_at = ?, etag = ?, last_error = NULL, last_attempt_at = ?, attempts = 0 "
            "WHERE id = ? AND state = 'pending'",
            (version, utcnow(), etag, now, job_id),
        )

    def retry_job(self, job_id: int, error: str, now: float, next_attempt_at: float) -> None:
        """A failed attempt: count it and set when to try again."""
        self.conn.execute(
            "UPDATE jobs SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, "
            "last_attempt_at = ? WHERE id = ?",
            (next_attempt_at, error, now, job_id),
        )
        self.count_sync_failure(now)  # SyncHistory: the admin's sync chart

    def refuse_job(self, job_id: int, reason: str) -> None:
        """Safe mode refused a delete: it never runs."""
        self.conn.execute(
            "UPDATE jobs SET state = ?, last_error = ?, done_at = ? WHERE id = ?",
            (JobState.REFUSED, reason, utcnow(), job_id),
        )

    def retry_all_now(self) -> None:
        """Every pending job is due now (the uplink is back)."""
        self.conn.execute("UPDATE jobs SET next_attempt_at = 0 WHERE state = 'pending'")

    # -- sync state ---------------------------------------------------------------------------
    def sync_state(self) -> dict[str, Any]:
        return self.row("SELECT * FROM sync_state WHERE id = 1") or {}

    def set_sync_state(self, **fields: Any) -> None:
        fields["updated_at"] = utcnow()
        if fields.get("online") == 1:  # the bucket answered
            fields["last_contact_at"] = fields["updated_at"]
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.conn.execute(f"UPDATE sync_state SET {sets} WHERE id = 1", tuple(fields.values()))
