"""Settings (JSON values by key) and events, with the current event kept as a setting."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from .connection import StoreBase, utcnow


def read_setting(path: Path, key: str) -> Any:
    """A setting read without writing anything (read-only connection, no migration): None when
    the database or the setting is missing or unreadable (for ``appliance doctor``)."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return json.loads(row[0]) if row else None


class Settings(StoreBase):
    """Settings and events."""

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

    def event_by_slug(self, slug: str) -> dict[str, Any] | None:
        return self.row("SELECT * FROM events WHERE slug = ?", (slug,))

    def events(self) -> list[dict[str, Any]]:
        """Every event, oldest first."""
        return self.rows("SELECT * FROM events ORDER BY id")
