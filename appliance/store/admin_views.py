"""Read models (and the few writes) of the admin: buffer pages, live feed, status snapshot
counts, metrics, cleanup actions, login failures, the events listing.

A mixin of :class:`~appliance.store.Store`; every method takes typed arguments and returns
plain dicts, lists and numbers. Formatting for the API stays in :mod:`appliance.admin.queries`.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

# Must match the expression of the photos_by_sort index (migration 2) for SQLite to use it.
SORT = "COALESCE(capture_time, imported_at)"
BUFFER_FILTERS = {
    "all": "1",
    "new": "NOT EXISTS (SELECT 1 FROM publications p WHERE p.photo_id = photos.id)"
    " AND NOT EXISTS (SELECT 1 FROM photo_rejections r WHERE r.photo_id = photos.id)",
    "published": "EXISTS (SELECT 1 FROM publications p WHERE p.photo_id = photos.id"
    " AND p.state IN ('queued', 'processing', 'published'))",
    "rejected": "EXISTS (SELECT 1 FROM photo_rejections r WHERE r.photo_id = photos.id)",
}
BUFFER_FILTER_NAMES = tuple(BUFFER_FILTERS)

_RETRY_PUBLICATION = (
    "UPDATE publications SET state = 'queued', error = NULL, claimed_at = NULL WHERE state = 'failed'"
)


class AdminViews:
    """What the admin reads and does in the store (mixed into Store)."""

    conn: sqlite3.Connection

    if TYPE_CHECKING:  # provided by Store

        def rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]: ...
        def row(self, sql: str, params: Any = ()) -> dict[str, Any] | None: ...
        def scalar(self, sql: str, params: Any = ()) -> Any: ...
        def transaction(self, immediate: bool = True) -> AbstractContextManager[sqlite3.Connection]: ...
        def get_setting(self, key: str, default: Any = None) -> Any: ...
        def set_setting(self, key: str, value: Any) -> None: ...

    # -- buffer -----------------------------------------------------------------------------------
    def buffer_counts(self) -> dict[str, int]:
        """How many photos each filter shows (same sets as :data:`BUFFER_FILTERS`).

        Counted from the small tables (publications, rejections) rather than by probing them once
        per photo: the status bar asks for this every few seconds.
        """
        row = self.conn.execute(
            """SELECT (SELECT COUNT(*) FROM photos),
                      (SELECT COUNT(*) FROM (SELECT photo_id FROM publications
                                             UNION SELECT photo_id FROM photo_rejections)),
                      (SELECT COUNT(DISTINCT photo_id) FROM publications
                       WHERE state IN ('queued', 'processing', 'published')),
                      (SELECT COUNT(*) FROM photo_rejections)"""
        ).fetchone()
        total, handled, published, rejected = (int(v or 0) for v in row)
        return {"all": total, "new": total - handled, "published": published, "rejected": rejected}

    def buffer_rows(
        self, filter_: str, limit: int, after: tuple[str, int] | None = None, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Photos of a filter newest first (capture time), each with its ``sort_key`` and
        ``rejected_at``.

        ``after`` (sort key, photo id) starts the page after that photo (keyset pagination);
        without it the page starts at ``offset``.
        """
        where: list[str] = [BUFFER_FILTERS[filter_]]
        params: list[Any] = []
        if after is not None:
            key, photo_id = after
            # (key, id) < (after key, after id), written so that SQLite seeks the index to it
            where.append(f"{SORT} <= ? AND ({SORT} < ? OR id < ?)")
            params += [key, key, photo_id]
        return self.rows(
            f"""SELECT photos.id, original_name, capture_time, imported_at, camera_make, camera_model,
                       width, height, {SORT} AS sort_key,
                       (SELECT r.rejected_at FROM photo_rejections r WHERE r.photo_id = photos.id)
                         AS rejected_at
                FROM photos WHERE {' AND '.join(where)}
                ORDER BY {SORT} DESC, id DESC LIMIT ? OFFSET ?""",
            (*params, limit, 0 if after is not None else offset),
        )

    def latest_publications(self, photo_ids: list[int]) -> dict[int, dict[str, Any]]:
        """The newest publication (id, photo_id, name, state, live_at, error) of each photo."""
        if not photo_ids:
            return {}
        marks = ",".join("?" * len(photo_ids))
        rows = self.rows(
            f"""SELECT p.id, p.photo_id, p.name, p.state, p.live_at, p.error FROM publications p
                WHERE p.id IN (SELECT MAX(id) FROM publications WHERE photo_id IN ({marks})
                               GROUP BY photo_id)""",
            photo_ids,
        )
        return {r["photo_id"]: r for r in rows}

    def latest_published_photo_id(self) -> int | None:
        """The photo of the most recent publication that is published."""
        return self.scalar(
            "SELECT photo_id FROM publications WHERE state = 'published' ORDER BY id DESC LIMIT 1"
        )

    # -- rejections -------------------------------------------------------------------------------
    def reject_photo(self, photo_id: int, at: str) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO photo_rejections (photo_id, rejected_at) VALUES (?, ?)",
            (photo_id, at),
        )

    def unreject_photo(self, photo_id: int) -> None:
        self.conn.execute("DELETE FROM photo_rejections WHERE photo_id = ?", (photo_id,))

    def unreject_all(self) -> int:
        """Undo every rejection; returns how many there were."""
        return self.conn.execute("DELETE FROM photo_rejections").rowcount

    def rejection_count(self) -> int:
        return int(self.scalar("SELECT COUNT(*) FROM photo_rejections"))

    # -- live feed and publications ---------------------------------------------------------------
    def live_rows(
        self, event_id: int, current_key: str | None, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        """Publications of an event newest first, with their upload jobs' ``pending`` count,
        latest ``sync_error`` and ``uploading`` (1 when ``current_key`` is one of theirs)."""
        return self.rows(
            """SELECT p.*,
                 (SELECT COUNT(*) FROM jobs j WHERE j.publication_id = p.id AND j.kind = 'upload'
                    AND j.state = 'pending') AS pending,
                 (SELECT j.last_error FROM jobs j WHERE j.publication_id = p.id AND j.kind = 'upload'
                    AND j.state = 'pending' AND j.last_error IS NOT NULL ORDER BY j.id DESC LIMIT 1)
                    AS sync_error,
                 (SELECT 1 FROM jobs j WHERE j.publication_id = p.id AND j.kind = 'upload'
                    AND j.state = 'pending' AND j.key = ?) AS uploading
               FROM publications p WHERE p.event_id = ? AND p.state IN
                 ('queued', 'processing', 'published', 'failed')
               ORDER BY p.id DESC LIMIT ? OFFSET ?""",
            (current_key, event_id, limit, offset),
        )

    def publication_counts(self, event_id: int | None = None) -> dict[str, int]:
        """Publications by state, of one event or of all."""
        if event_id is None:
            found = self.conn.execute("SELECT state, COUNT(*) FROM publications GROUP BY state")
        else:
            found = self.conn.execute(
                "SELECT state, COUNT(*) FROM publications WHERE event_id = ? GROUP BY state",
                (event_id,),
            )
        return dict(found.fetchall())

    def live_count(self) -> int:
        """Published photos confirmed in the bucket."""
        return int(
            self.scalar(
                "SELECT COUNT(*) FROM publications WHERE state = 'published' AND live_at IS NOT NULL"
            )
        )

    def failed_count(self) -> int:
        return int(self.scalar("SELECT COUNT(*) FROM publications WHERE state = 'failed'"))

    def retry_failed_publication(self, publication_id: int) -> bool:
        """Queue a failed publication again; False when it has not failed."""
        return self.conn.execute(f"{_RETRY_PUBLICATION} AND id = ?", (publication_id,)).rowcount > 0

    def retry_failed_publications(self) -> int:
        """Queue every failed publication again; returns how many."""
        return self.conn.execute(_RETRY_PUBLICATION).rowcount

    # -- outbox ------------------------------------------------------------------------------------
    def retrying_count(self) -> int:
        """Pending outbox jobs whose last attempt failed."""
        return int(
            self.scalar("SELECT COUNT(*) FROM jobs WHERE state = 'pending' AND last_error IS NOT NULL")
        )

    def retry_jobs_now(self) -> int:
        """Make every pending job due now (skip its backoff); returns how many."""
        return self.conn.execute("UPDATE jobs SET next_attempt_at = 0 WHERE state = 'pending'").rowcount

    # -- imports -------------------------------------------------------------------------------------
    def import_overview(self) -> dict[str, Any]:
        """The running import (and the photos it recorded so far), else the last import; of cards,
        folders and ``appliance import`` (a camera's frames over FTP or USB are imports of one file
        each; the phone's uploads are reported on the phone)."""
        cards = "COALESCE(source_kind, '') NOT IN ('ftp', 'tether') AND source NOT LIKE 'upload %'"
        running = self.row(f"SELECT * FROM imports WHERE state = 'running' AND {cards} "
                           "ORDER BY id DESC LIMIT 1")
        if running:
            imported = self.scalar("SELECT COUNT(*) FROM photos WHERE import_id = ?", (running["id"],))
            return {"running": running, "imported": imported, "last": None}
        last = self.row(f"SELECT * FROM imports WHERE {cards} ORDER BY id DESC LIMIT 1")
        return {"running": None, "imported": None, "last": last}

    # -- metrics -------------------------------------------------------------------------------------
    def metrics_counts(self, since: str) -> dict[str, Any]:
        """Totals since the store was created, and what happened since ``since`` (ISO 8601)."""
        q = self.scalar
        photos, photo_bytes = self.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM photos"
        ).fetchone()
        published = q("SELECT COUNT(*) FROM publications WHERE published_at IS NOT NULL")
        failed = self.failed_count()
        uploads, upload_bytes = self.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM jobs WHERE kind = 'upload' AND state = 'done'"
        ).fetchone()
        upload_errors = q("SELECT COALESCE(SUM(attempts), 0) FROM jobs")
        by_state = self.publication_counts()
        live = self.live_count()
        retrying = self.retrying_count()
        imported_recent, imported_recent_bytes = self.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM photos WHERE imported_at >= ?", (since,)
        ).fetchone()
        uploaded_recent_bytes = q(
            "SELECT COALESCE(SUM(size), 0) FROM jobs WHERE kind = 'upload' "
            "AND state = 'done' AND done_at >= ?",
            (since,),
        )
        return {
            "photos": photos,
            "photo_bytes": photo_bytes,
            "published": published,
            "failed": failed,
            "uploads": uploads,
            "upload_bytes": upload_bytes,
            "upload_errors": upload_errors,
            "publications_by_state": by_state,
            "live": live,
            "retrying": retrying,
            "imported_recent": imported_recent,
            "imported_recent_bytes": imported_recent_bytes,
            "uploaded_recent_bytes": uploaded_recent_bytes,
        }

    # -- login failures -------------------------------------------------------------------------------
    def recent_login_failures(self, client: str, since: float, limit: int) -> list[float]:
        """Times of the newest (at most ``limit``) failed logins of ``client`` after ``since``."""
        rows = self.conn.execute(
            "SELECT at FROM login_failures WHERE client = ? AND at > ? ORDER BY at DESC LIMIT ?",
            (client, since, limit),
        ).fetchall()
        return [r[0] for r in rows]

    def record_login_failure(self, client: str, at: float, forget_before: float) -> None:
        """Count a failed login, dropping every failure older than ``forget_before``."""
        with self.transaction():
            self.conn.execute("DELETE FROM login_failures WHERE at < ?", (forget_before,))
            self.conn.execute("INSERT INTO login_failures (client, at) VALUES (?, ?)", (client, at))

    def clear_login_failures(self, client: str) -> None:
        self.conn.execute("DELETE FROM login_failures WHERE client = ?", (client,))

    def login_failure_count(self) -> int:
        return int(self.scalar("SELECT COUNT(*) FROM login_failures"))

    # -- events --------------------------------------------------------------------------------------
    def events_listing(self) -> list[dict[str, Any]]:
        """Every event newest first with its count of ``published`` photos."""
        return self.rows(
            """SELECT e.id, e.slug, e.title, e.subtitle, e.created_at,
                 (SELECT COUNT(*) FROM publications p WHERE p.event_id = e.id AND p.state = 'published')
                   AS published
               FROM events e ORDER BY e.id DESC"""
        )

    def create_event_if_new(self, slug: str, title: str, subtitle: str, created_at: str,
                     make_current: bool) -> int | None:
        """A new event (made current if asked); None, and nothing changed, when the slug exists."""
        with self.transaction():
            if self.scalar("SELECT 1 FROM events WHERE slug = ?", (slug,)):
                return None
            cursor = self.conn.execute(
                "INSERT INTO events (slug, title, subtitle, created_at) VALUES (?, ?, ?, ?)",
                (slug, title, subtitle, created_at),
            )
            if make_current:
                self.set_setting("current_event_id", cursor.lastrowid)
        return int(cursor.lastrowid or 0)

    def save_event_settings(
        self, event_id: int, title: str, subtitle: str, settings: dict[str, Any]
    ) -> None:
        """Retitle an event and store settings that go with it, in one transaction."""
        with self.transaction():
            self.conn.execute(
                "UPDATE events SET title = ?, subtitle = ? WHERE id = ?", (title, subtitle, event_id)
            )
            for key, value in settings.items():
                self.set_setting(key, value)


__all__ = ["BUFFER_FILTERS", "BUFFER_FILTER_NAMES", "SORT", "AdminViews"]
