"""Faces for "Find my photos": the indexing queue, the faces found, each event's published face index.

The queue is derived, not enqueued: a published photo of an event whose face search is on (setting
``faces.<event id>``, ``{"enabled": true, ...}``) that has no scan of its current rendering is a job.
Descriptors are 128 float32 (little-endian, 512 bytes); the published index quantises them.
"""

from __future__ import annotations

from typing import Any

from .connection import utcnow
from .outbox import Outbox
from .states import JobState

FACE_INDEX_CACHE = "public, max-age=2"  # like the manifest: replaced whenever faces change
# a face index key: <event>/faces.bin (one appliance) or <event>/faces/<appliance id>.bin (shared)
FACE_INDEX_KEY = "key LIKE '%/faces.bin' OR key LIKE '%/faces/%.bin'"
ENABLED = ("SELECT 1 FROM settings s WHERE s.key = 'faces.' || p.event_id "
           "AND json_extract(s.value, '$.enabled') = 1")


class Faces(Outbox):
    """Face scans, faces and face indexes."""

    # -- the queue ---------------------------------------------------------------------------
    def next_face_job(self) -> dict[str, Any] | None:
        """The oldest published photo of an event with face search on whose rendering has no scan."""
        jobs = self.next_face_jobs(1)
        return jobs[0] if jobs else None

    def next_face_jobs(self, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` oldest such photos (the face worker computes several at once)."""
        return self.rows(
            f"""SELECT p.* FROM publications p LEFT JOIN face_scans f
                  ON f.publication_id = p.id AND f.published_at = p.published_at
                WHERE p.state = 'published' AND f.publication_id IS NULL AND EXISTS ({ENABLED})
                ORDER BY p.id LIMIT ?""", (limit,))

    def publishing_busy(self) -> bool:
        """Is any publication waiting to be rendered? Then the publisher is behind and indexing waits;
        one rendering alone does not stop it (the indexer runs at idle CPU priority, on the cores
        the publisher leaves free: bench/faces.py's index_keeps_up)."""
        return bool(self.scalar("SELECT 1 FROM publications WHERE state = 'queued' LIMIT 1"))

    def face_jobs_left(self, event_id: int | None = None) -> int:
        """Photos still to scan (of one event, or of all)."""
        where, params = ("AND p.event_id = ?", (event_id,)) if event_id is not None else ("", ())
        return int(self.scalar(
            f"""SELECT COUNT(*) FROM publications p LEFT JOIN face_scans f
                  ON f.publication_id = p.id AND f.published_at = p.published_at
                WHERE p.state = 'published' AND f.publication_id IS NULL AND EXISTS ({ENABLED}) {where}""",
            params))

    def record_faces(self, publication_id: int, published_at: str, faces: list[dict[str, Any]],
                     error: str | None = None) -> None:
        """The scan of one rendering: its faces (``x, y, w, h, score, descriptor`` bytes) replace any
        earlier ones; an ``error`` scan has none and is not retried."""
        with self.transaction():
            self.conn.execute("DELETE FROM faces WHERE publication_id = ?", (publication_id,))
            self.conn.executemany(
                "INSERT INTO faces (publication_id, x, y, w, h, score, descriptor) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(publication_id, f["x"], f["y"], f["w"], f["h"], f["score"], f["descriptor"])
                 for f in faces])
            self.conn.execute(
                "INSERT OR REPLACE INTO face_scans (publication_id, published_at, faces, error, scanned_at) "
                "VALUES (?, ?, ?, ?, ?)", (publication_id, published_at, len(faces), error, utcnow()))

    def drop_stale_faces(self) -> int:
        """Forget the faces and scans of photos no longer published, or in events with face search
        off; returns how many faces went."""
        stale = f"SELECT p.id FROM publications p WHERE p.state != 'published' OR NOT EXISTS ({ENABLED})"
        if not self.scalar(f"SELECT EXISTS (SELECT 1 FROM face_scans WHERE publication_id IN ({stale}))"):
            return 0  # (read first: no write lock taken on every look)
        with self.transaction():
            gone = self.conn.execute(f"DELETE FROM faces WHERE publication_id IN ({stale})").rowcount
            self.conn.execute(f"DELETE FROM face_scans WHERE publication_id IN ({stale})")
        return gone

    # -- reading ------------------------------------------------------------------------------
    def event_faces(self, event_id: int, live_only: bool = True) -> list[dict[str, Any]]:
        """The faces of an event's published photos (``live_only``: confirmed in the bucket), with
        the photo's ``name``; photos oldest first, faces in the detector's order."""
        live = "AND p.live_at IS NOT NULL" if live_only else ""
        return self.rows(
            f"""SELECT p.name, f.x, f.y, f.w, f.h, f.score, f.descriptor FROM faces f
                JOIN publications p ON p.id = f.publication_id
                WHERE p.event_id = ? AND p.state = 'published' {live} ORDER BY p.id, f.id""",
            (event_id,))

    def face_signature(self, event_id: int) -> tuple[int, int]:
        """Changes whenever the faces a new index of the event would hold change: (count, sum of ids).
        Face ids are never reused (AUTOINCREMENT), so faces added since have larger ids than any
        removed and the pair cannot come back to an earlier value."""
        row = self.conn.execute(
            """SELECT COUNT(*), COALESCE(SUM(f.id), 0) FROM faces f
               JOIN publications p ON p.id = f.publication_id
               WHERE p.event_id = ? AND p.state = 'published' AND p.live_at IS NOT NULL""",
            (event_id,)).fetchone()
        return int(row[0]), int(row[1])

    def face_counts(self, event_id: int) -> dict[str, int]:
        """Scanned photos, faces and failed scans of an event's published photos (for the admin)."""
        row = self.row(
            """SELECT COUNT(s.publication_id) AS scanned, COALESCE(SUM(s.faces), 0) AS faces,
                      COUNT(s.error) AS failed FROM publications p
               JOIN face_scans s ON s.publication_id = p.id AND s.published_at = p.published_at
               WHERE p.event_id = ? AND p.state = 'published'""", (event_id,))
        return {k: int(v) for k, v in (row or {}).items()}

    def face_index(self, event_id: int) -> dict[str, Any] | None:
        return self.row("SELECT * FROM face_indexes WHERE event_id = ?", (event_id,))

    def face_index_events(self) -> list[int]:
        """Events that have a face index row (written once, perhaps to be deleted)."""
        return [r["event_id"] for r in self.rows("SELECT event_id FROM face_indexes ORDER BY event_id")]

    # -- the published index --------------------------------------------------------------------
    def face_index_written(self, event_id: int, sha256: str, key: str, path: str, size: int) -> int:
        """A new faces.bin is in the web folder: count its version and queue its upload (one
        pending upload per key: a newer file bumps it, so a file read before is sent again)."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO face_indexes (event_id, version, sha256, updated_at) VALUES (?, 1, ?, ?) "
                "ON CONFLICT (event_id) DO UPDATE SET version = version + 1, sha256 = excluded.sha256, "
                "updated_at = excluded.updated_at", (event_id, sha256, utcnow()))
            bumped = self.conn.execute(
                "UPDATE jobs SET version = version + 1, size = ? "
                "WHERE kind = 'upload' AND state = 'pending' AND key = ?", (size, key)).rowcount
            if not bumped:
                self.enqueue("upload", event_id, key, path=path, content_type="application/octet-stream",
                             cache_control=FACE_INDEX_CACHE, size=size)
            return int(self.scalar("SELECT version FROM face_indexes WHERE event_id = ?", (event_id,)))

    def face_index_confirmed(self, event_id: int, key: str) -> bool:
        """When the bucket holds the newest faces.bin (no upload of it pending), record that version
        as live; returns True when that changed (the manifest must say so)."""
        index = self.face_index(event_id)
        if not index or index["live_version"] == index["version"] or self.job_pending("upload", key):
            return False  # (read first: no write lock taken on every look)
        return self.conn.execute(
            "UPDATE face_indexes SET live_version = version WHERE event_id = ? AND live_version != version "
            "AND version > 0", (event_id,)).rowcount == 1

    def forget_face_index(self, event_id: int, key: str) -> bool:
        """Face search is off (or the event goes): drop the index row, cancel its pending upload and
        queue the deletion of the bucket's copy when one was ever queued; True when queued."""
        with self.transaction():
            self.conn.execute("DELETE FROM face_indexes WHERE event_id = ?", (event_id,))
            self.conn.execute("UPDATE jobs SET state = ? WHERE kind = 'upload' AND state = 'pending' "
                              "AND key = ? AND publication_id IS NULL", (JobState.CANCELLED, key))
            # ever queued, cancelled too: a cancelled upload may have been on its way already
            uploaded = self.scalar("SELECT 1 FROM jobs WHERE kind = 'upload' AND key = ? AND event_id = ? "
                                   "AND publication_id IS NULL", (key, event_id))
            if uploaded and not self.job_pending("delete", key):
                self.enqueue("delete", event_id, key)
            return bool(uploaded)

    def face_index_keys(self, event_id: int) -> list[str]:
        """Every face index key this appliance ever queued for upload for the event, the newest
        (the one it publishes now, while face search is on) last."""
        return [r["key"] for r in self.rows(
            f"SELECT key FROM jobs WHERE kind = 'upload' AND event_id = ? AND publication_id IS NULL "
            f"AND ({FACE_INDEX_KEY}) GROUP BY key ORDER BY max(id)", (event_id,))]

    def retire_face_index_key(self, event_id: int, key: str) -> bool:
        """An index key this appliance no longer publishes (the event became shared: its index moved
        to faces/<id>.bin): cancel its pending upload, queue its deletion unless one is queued since
        its last upload; True when queued."""
        last_upload = self.scalar("SELECT max(id) FROM jobs WHERE kind = 'upload' AND key = ? "
                                  "AND event_id = ? AND publication_id IS NULL", (key, event_id))
        last_delete = self.scalar("SELECT max(id) FROM jobs WHERE kind = 'delete' AND key = ?", (key,))
        if last_upload is None or (last_delete is not None and last_delete > last_upload):
            return False  # (read first: no write lock taken on every look)
        with self.transaction():
            self.conn.execute("UPDATE jobs SET state = ? WHERE kind = 'upload' AND state = 'pending' "
                              "AND key = ? AND publication_id IS NULL", (JobState.CANCELLED, key))
            self.enqueue("delete", event_id, key)
            return True

    def face_index_deletable(self, event_id: int, key: str) -> bool:
        """Safe mode: a delete of ``key`` may run if it is a face index of the event that this
        appliance uploaded and no longer publishes (face search off, or an older key of it)."""
        keys = self.face_index_keys(event_id)
        if key not in keys:
            return False  # another appliance's index, or not an index at all
        return self.face_index(event_id) is None or key != keys[-1]
