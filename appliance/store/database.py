"""The SQLite store: the only state shared between the appliance's services.

WAL mode, a busy timeout and ``synchronous=FULL`` (a photo recorded here survives a power cut).
The schema is versioned with ``PRAGMA user_version`` and upgraded by :data:`MIGRATIONS`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from .admin_views import AdminViews

BUSY_TIMEOUT_MS = 10_000

MIGRATIONS: list[str] = [
    # 1: events, buffer photos, imports, publications, the sync outbox
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        slug TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        subtitle TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        state TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        files_total INTEGER NOT NULL DEFAULT 0,
        files_done INTEGER NOT NULL DEFAULT 0,
        bytes_total INTEGER NOT NULL DEFAULT 0,
        bytes_done INTEGER NOT NULL DEFAULT 0,
        imported INTEGER NOT NULL DEFAULT 0,
        duplicates INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0,
        report TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE photos (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        original_name TEXT NOT NULL,
        source_path TEXT,
        buffer_path TEXT NOT NULL,
        size INTEGER NOT NULL,
        width INTEGER,
        height INTEGER,
        orientation INTEGER,
        capture_time TEXT,
        camera_make TEXT,
        camera_model TEXT,
        thumb_path TEXT,
        import_id INTEGER REFERENCES imports(id),
        imported_at TEXT NOT NULL
    );
    CREATE INDEX photos_by_capture ON photos(capture_time DESC, id DESC);
    CREATE TABLE publications (
        id INTEGER PRIMARY KEY,
        photo_id INTEGER NOT NULL REFERENCES photos(id),
        event_id INTEGER NOT NULL REFERENCES events(id),
        base TEXT NOT NULL,
        seq INTEGER NOT NULL,
        name TEXT NOT NULL,
        recipe TEXT NOT NULL,
        state TEXT NOT NULL,
        error TEXT,
        width INTEGER,
        height INTEGER,
        thumb_width INTEGER,
        thumb_height INTEGER,
        color TEXT,
        requested_at TEXT NOT NULL,
        claimed_at REAL,
        published_at TEXT,
        live_at TEXT,
        unpublished_at TEXT,
        UNIQUE (event_id, name)
    );
    CREATE INDEX publications_by_state ON publications(state, id);
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('upload', 'delete', 'manifest')),
        event_id INTEGER NOT NULL REFERENCES events(id),
        publication_id INTEGER REFERENCES publications(id),
        key TEXT NOT NULL,
        path TEXT,
        content_type TEXT,
        cache_control TEXT,
        size INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'pending',
        version INTEGER NOT NULL DEFAULT 1,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at TEXT NOT NULL,
        done_at TEXT
    );
    CREATE UNIQUE INDEX jobs_one_pending_manifest ON jobs(event_id)
        WHERE kind = 'manifest' AND state = 'pending';
    CREATE INDEX jobs_by_state ON jobs(state, next_attempt_at, id);
    CREATE TABLE sync_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        online INTEGER,
        current_key TEXT,
        last_success_at TEXT,
        last_error TEXT,
        last_error_at TEXT,
        updated_at TEXT
    );
    INSERT INTO sync_state (id) VALUES (1);
    """,
    # 2: publish pipeline outputs: an optional WebP beside the JPEG, a 3×3 colour placeholder
    """
    ALTER TABLE publications ADD COLUMN webp INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE publications ADD COLUMN placeholder TEXT;
    """,
    # 3: admin: buffer sort/filter and live-feed indexes, rejected photos, failed logins (rate limit)
    """
    CREATE INDEX photos_by_sort ON photos(COALESCE(capture_time, imported_at) DESC, id DESC);
    CREATE INDEX publications_by_photo ON publications(photo_id, id);
    CREATE INDEX jobs_by_publication ON jobs(publication_id, kind, state);
    CREATE TABLE photo_rejections (
        photo_id INTEGER PRIMARY KEY REFERENCES photos(id),
        rejected_at TEXT NOT NULL
    );
    CREATE TABLE login_failures (id INTEGER PRIMARY KEY, client TEXT NOT NULL, at REAL NOT NULL);
    CREATE INDEX login_failures_by_client ON login_failures(client, at);
    """,
    # 4: card ingest: inserted cards and their "safe to remove" state, RAW files in the archive
    # paired with their JPEG, live progress of an import (MB/s and ETA derive from it)
    """
    CREATE TABLE cards (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        label TEXT NOT NULL DEFAULT '',
        fs_type TEXT NOT NULL DEFAULT '',
        device TEXT NOT NULL DEFAULT '',
        mount_path TEXT,
        state TEXT NOT NULL,
        error TEXT,
        import_id INTEGER REFERENCES imports(id),
        first_seen_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE raw_files (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        original_name TEXT NOT NULL,
        source_path TEXT,
        archive_path TEXT NOT NULL,
        size INTEGER NOT NULL,
        pair_key TEXT NOT NULL,
        photo_id INTEGER REFERENCES photos(id),
        import_id INTEGER REFERENCES imports(id),
        imported_at TEXT NOT NULL
    );
    CREATE INDEX raw_files_by_pair ON raw_files(pair_key);
    CREATE INDEX raw_files_by_size ON raw_files(size);
    CREATE INDEX photos_by_size ON photos(size);
    ALTER TABLE imports ADD COLUMN card_id INTEGER REFERENCES cards(id);
    ALTER TABLE imports ADD COLUMN pid INTEGER;
    ALTER TABLE imports ADD COLUMN current_file TEXT;
    ALTER TABLE imports ADD COLUMN started_ts REAL;
    ALTER TABLE imports ADD COLUMN updated_ts REAL;
    ALTER TABLE photos ADD COLUMN pair_key TEXT;
    CREATE INDEX photos_by_pair ON photos(pair_key);
    """,
    # 5: sync outbox details: confirmed ETag, attempt times, parallel uploads, manifest writes
    """
    ALTER TABLE jobs ADD COLUMN etag TEXT;
    ALTER TABLE jobs ADD COLUMN last_attempt_at REAL;
    CREATE INDEX jobs_pending_by_kind ON jobs(kind, id) WHERE state = 'pending';
    ALTER TABLE sync_state ADD COLUMN in_flight INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sync_state ADD COLUMN manifest_puts INTEGER NOT NULL DEFAULT 0;
    """,
]


def utcnow() -> str:
    """Current UTC time as ISO 8601 with a Z suffix, to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def connect(path: Path) -> sqlite3.Connection:
    """Open a connection configured for the appliance (WAL, busy timeout, FULL sync)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":  # pragma: no cover - only on filesystems without shared memory
        raise RuntimeError(f"SQLite refused WAL mode on {path} (got {mode})")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


class Store(AdminViews):
    """Typed access to the appliance database. One instance per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = connect(path)
        self.db = sqlite_utils.Database(self.conn)
        self.migrate()

    def close(self) -> None:
        self.conn.close()

    # -- schema -------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> None:
        """Apply pending migrations, each in its own transaction."""
        if self.schema_version >= len(MIGRATIONS):
            return  # up to date: no write lock taken (every admin request opens a store)
        with self.transaction(immediate=True):
            current = self.schema_version
            for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
                for statement in _statements(script):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self, immediate: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction; BEGIN IMMEDIATE takes the write lock up front."""
        self.conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params))

    def row(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def scalar(self, sql: str, params: Any = ()) -> Any:
        found = self.conn.execute(sql, params).fetchone()
        return found[0] if found else None

    # -- settings and events -------------------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        value = self.scalar("SELECT value FROM settings WHERE key = ?", (key,))
        return default if value is None else json.loads(value)

    def set_setting(self, key: str, value: Any) -> None:
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    def ensure_event(self, slug: str, title: str, subtitle: str = "") -> int:
        """Create the event if missing; make it current when no event is current."""
        with self.transaction():
            self.conn.execute(
                "INSERT OR IGNORE INTO events (slug, title, subtitle, created_at) "
                "VALUES (?, ?, ?, ?)",
                (slug, title, subtitle, utcnow()),
            )
            event_id = self.scalar("SELECT id FROM events WHERE slug = ?", (slug,))
            if self.get_setting("current_event_id") is None:
                self.set_setting("current_event_id", event_id)
        return int(event_id)

    def current_event(self) -> dict[str, Any] | None:
        event_id = self.get_setting("current_event_id")
        if event_id is None:
            return None
        return self.row("SELECT * FROM events WHERE id = ?", (event_id,))

    def event(self, event_id: int) -> dict[str, Any] | None:
        return self.row("SELECT * FROM events WHERE id = ?", (event_id,))

    # -- buffer --------------------------------------------------------------------------------
    def photo_by_sha(self, sha256: str) -> dict[str, Any] | None:
        return self.row("SELECT * FROM photos WHERE sha256 = ?", (sha256,))

    def photo(self, photo_id: int) -> dict[str, Any] | None:
        return self.row("SELECT * FROM photos WHERE id = ?", (photo_id,))

    def add_photo(self, **fields: Any) -> tuple[int, bool]:
        """Record a buffered photo; returns (id, created). Identity is the sha256."""
        fields.setdefault("imported_at", utcnow())
        with self.transaction():
            cursor = self.conn.execute(
                f"INSERT OR IGNORE INTO photos ({', '.join(fields)}) "
                f"VALUES ({', '.join('?' for _ in fields)})",
                tuple(fields.values()),
            )
            created = cursor.rowcount == 1
            photo_id = self.scalar("SELECT id FROM photos WHERE sha256 = ?", (fields["sha256"],))
        return int(photo_id), created

    def buffer_page(
        self, limit: int = 60, offset: int = 0, filter_: str = "all"
    ) -> list[dict[str, Any]]:
        """Buffer photos newest first by capture time, with their latest publication state."""
        where = {
            "all": "",
            "new": "WHERE NOT EXISTS (SELECT 1 FROM publications p WHERE p.photo_id = photos.id)",
            "published": "WHERE EXISTS (SELECT 1 FROM publications p WHERE p.photo_id = photos.id"
            " AND p.state = 'published')",
        }[filter_]
        return self.rows(
            f"""SELECT photos.*, (SELECT p.state FROM publications p WHERE p.photo_id = photos.id
                   ORDER BY p.id DESC LIMIT 1) AS publication_state
                FROM photos {where}
                ORDER BY COALESCE(capture_time, imported_at) DESC, id DESC
                LIMIT ? OFFSET ?""",
            (limit, offset),
        )

    def latest_photo(self) -> dict[str, Any] | None:
        return self.row(
            "SELECT * FROM photos ORDER BY COALESCE(capture_time, imported_at) DESC, id DESC "
            "LIMIT 1"
        )

    # -- imports -------------------------------------------------------------------------------
    def start_import(self, source: str, card_id: int | None = None) -> int:
        """A new running import owned by this process (its pid tells a live import from a dead one)."""
        now = time.time()
        with self.transaction():
            cursor = self.conn.execute(
                "INSERT INTO imports (source, state, started_at, card_id, pid, started_ts, updated_ts) "
                "VALUES (?, 'running', ?, ?, ?, ?, ?)",
                (source, utcnow(), card_id, os.getpid(), now, now),
            )
        return int(cursor.lastrowid or 0)

    def update_import(self, import_id: int, **fields: Any) -> None:
        """Update progress or outcome columns (``report`` may be a dict)."""
        fields["updated_ts"] = time.time()
        if "report" in fields and not isinstance(fields["report"], str):
            fields["report"] = json.dumps(fields["report"])
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.conn.execute(f"UPDATE imports SET {sets} WHERE id = ?", (*fields.values(), import_id))

    # -- publications ----------------------------------------------------------------------------
    def request_publication(self, photo_id: int, recipe: dict[str, Any], base: str) -> int:
        """Queue a publication of a photo in the current event, reserving its unique name."""
        with self.transaction():
            event_id = self.get_setting("current_event_id")
            if event_id is None:
                raise LookupError("no current event")
            seq = (
                self.scalar(
                    "SELECT MAX(seq) FROM publications WHERE event_id = ? AND base = ?",
                    (event_id, base),
                )
                or 0
            ) + 1
            while True:
                name = base if seq == 1 else f"{base}_{seq:03d}"
                taken = self.scalar(
                    "SELECT 1 FROM publications WHERE event_id = ? AND name = ?", (event_id, name)
                )
                if not taken:
                    break
                seq += 1
            cursor = self.conn.execute(
                "INSERT INTO publications (photo_id, event_id, base, seq, name, recipe, state, "
                "requested_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)",
                (photo_id, event_id, base, seq, name, json.dumps(recipe), utcnow()),
            )
        return int(cursor.lastrowid or 0)

    def publication(self, publication_id: int) -> dict[str, Any] | None:
        return self.row("SELECT * FROM publications WHERE id = ?", (publication_id,))

    def claim_publication(self, publication_id: int | None = None) -> dict[str, Any] | None:
        """Atomically take a queued publication (a given one, or the oldest) for processing."""
        with self.transaction():
            if publication_id is None:
                publication_id = self.scalar(
                    "SELECT id FROM publications WHERE state = 'queued' ORDER BY id LIMIT 1"
                )
                if publication_id is None:
                    return None
            cursor = self.conn.execute(
                "UPDATE publications SET state = 'processing', claimed_at = ? "
                "WHERE id = ? AND state = 'queued'",
                (time.time(), publication_id),
            )
            if cursor.rowcount != 1:
                return None
            return self.publication(publication_id)

    def release_stale_claims(self, older_than_s: float = 300) -> int:
        """Requeue publications whose worker died mid-way."""
        cursor = self.conn.execute(
            "UPDATE publications SET state = 'queued', claimed_at = NULL "
            "WHERE state = 'processing' AND claimed_at < ?",
            (time.time() - older_than_s,),
        )
        return cursor.rowcount

    def fail_publication(self, publication_id: int, error: str) -> None:
        self.conn.execute(
            "UPDATE publications SET state = 'failed', error = ? WHERE id = ?",
            (error, publication_id),
        )

    def published(self, event_id: int, live_only: bool = False) -> list[dict[str, Any]]:
        """Published photos of an event, newest first (``live_only``: confirmed in the bucket)."""
        live = "AND p.live_at IS NOT NULL" if live_only else ""
        return self.rows(
            f"""SELECT p.*, ph.capture_time FROM publications p JOIN photos ph ON ph.id = p.photo_id
                WHERE p.event_id = ? AND p.state = 'published' {live}
                ORDER BY p.published_at DESC, p.id DESC""",
            (event_id,),
        )

    # -- outbox -----------------------------------------------------------------------------------
    def enqueue_manifest(self, event_id: int, key: str) -> None:
        """Ask for a manifest upload; coalesces into the one pending manifest job of the event."""
        self.conn.execute(
            "INSERT INTO jobs (kind, event_id, key, content_type, cache_control, created_at) "
            "VALUES ('manifest', ?, ?, 'application/json', 'public, max-age=5', ?) "
            "ON CONFLICT (event_id) WHERE kind = 'manifest' AND state = 'pending' "
            "DO UPDATE SET version = version + 1",
            (event_id, key, utcnow()),
        )

    def enqueue(self, kind: str, event_id: int, key: str, **fields: Any) -> None:
        fields.update(kind=kind, event_id=event_id, key=key, created_at=utcnow())
        self.conn.execute(
            f"INSERT INTO jobs ({', '.join(fields)}) VALUES ({', '.join('?' for _ in fields)})",
            tuple(fields.values()),
        )

    def queue_depth(self) -> dict[str, int]:
        row = self.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM jobs WHERE state = 'pending'"
        ).fetchone()
        return {"jobs": int(row[0]), "bytes": int(row[1])}

    def sync_state(self) -> dict[str, Any]:
        return self.row("SELECT * FROM sync_state WHERE id = 1") or {}

    def set_sync_state(self, **fields: Any) -> None:
        fields["updated_at"] = utcnow()
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.conn.execute(f"UPDATE sync_state SET {sets} WHERE id = 1", tuple(fields.values()))

    def status(self) -> dict[str, Any]:
        """Counts and sync state for people, scripts and LEDs."""
        sync = self.sync_state()
        event = self.current_event()
        running = self.row(
            "SELECT * FROM imports WHERE state = 'running' ORDER BY id DESC LIMIT 1"
        )
        return {
            "event": event["slug"] if event else None,
            "buffer": self.scalar("SELECT COUNT(*) FROM photos"),
            "published": self.scalar("SELECT COUNT(*) FROM publications WHERE state='published'"),
            "publishing": self.scalar(
                "SELECT COUNT(*) FROM publications WHERE state IN ('queued', 'processing')"
            ),
            "failed": self.scalar("SELECT COUNT(*) FROM publications WHERE state = 'failed'"),
            "queue": self.queue_depth(),
            "online": None if sync.get("online") is None else bool(sync["online"]),
            "last_success_at": sync.get("last_success_at"),
            "last_error": sync.get("last_error"),
            "last_error_at": sync.get("last_error_at"),
            "current_upload": sync.get("current_key"),
            "in_flight": sync.get("in_flight") or 0,
            "retrying": self.scalar(
                "SELECT COUNT(*) FROM jobs WHERE state = 'pending' AND attempts > 0"
            ),
            "importing": running is not None,
        }


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (no semicolons inside our literals)."""
    return [s.strip() for s in script.split(";") if s.strip()]
