"""The connection and the base of :class:`~appliance.store.Store`: transactions, migrations, rows.

WAL mode, a busy timeout and ``synchronous=FULL`` (a photo recorded here survives a power cut).
The typed methods live in one mixin per table family (settings, photos, imports, publications,
outbox), each built on :class:`StoreBase`; :mod:`.database` composes them into ``Store``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .schema import MIGRATIONS, statements

BUSY_TIMEOUT_MS = 10_000


def utcnow() -> str:
    """Current UTC time as ISO 8601 with a Z suffix, to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(iso: str) -> float:
    """Seconds since the epoch of a stored UTC time (``2026-05-01T12:00:00Z``, as utcnow writes)."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


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


def dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    """Row factory: a row as a dict keyed by column name."""
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class StoreBase:
    """One connection (one instance per thread) with the helpers the typed methods use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = connect(path)
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
                for statement in statements(script):
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

    def data_version(self) -> int:
        """Changes when another connection commits (``PRAGMA data_version``): a cheap poll."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    # -- rows ---------------------------------------------------------------------------------
    def rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        cursor = self.conn.cursor()
        cursor.row_factory = dict_row
        return cursor.execute(sql, params).fetchall()

    def row(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def scalar(self, sql: str, params: Any = ()) -> Any:
        found = self.conn.execute(sql, params).fetchone()
        return found[0] if found else None
