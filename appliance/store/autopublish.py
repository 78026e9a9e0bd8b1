"""Auto-publish rules (per event and source) and what they decided for each photo.

A rule is ``off``, ``all`` (after ``value`` seconds unless rejected), ``rated`` (in-camera rating
≥ ``value``) or ``protected``. Its ``since`` is when its mode was last set, and ``after_photo_id``
the newest photo then: only photos recorded after it are considered (changing only ``value`` keeps
both). Each new photo is looked at once,
in id order, against the current event's rules (:mod:`appliance.publish.autopublish`); a match
becomes a ``waiting`` row, due at its import time plus the grace window, then ``requested`` (with
its publication), ``skipped`` (rejected, already published) or ``cancelled`` (rule changed, event
changed).
"""

from __future__ import annotations

from typing import Any

from .connection import utcnow
from .settings import Settings

MODES = ("off", "all", "rated", "protected")
SCANNED = "autopublish:scanned_photo_id"  # the last photo id looked at by the rules


class AutoPublish(Settings):
    """Rules, the scan of new photos, and the waiting list."""

    # -- rules --------------------------------------------------------------------------------
    def autopublish_rules(self, event_id: int) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM autopublish_rules WHERE event_id = ? "
                         "ORDER BY source_kind, source_name", (event_id,))

    def set_autopublish_rule(self, event_id: int, kind: str, name: str, mode: str, value: int) -> None:
        """Set a source's rule. A new mode starts now and cancels the photos waiting under the old
        one; a new grace window moves their deadline."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        now = utcnow()
        with self.transaction():
            old = self.row("SELECT * FROM autopublish_rules WHERE event_id = ? AND source_kind = ? "
                           "AND source_name = ?", (event_id, kind, name))
            newest = self.scalar("SELECT COALESCE(MAX(id), 0) FROM photos")
            since, after = (old["since"], old["after_photo_id"]) if old and old["mode"] == mode else (
                now, newest)
            self.conn.execute(
                "INSERT INTO autopublish_rules (event_id, source_kind, source_name, mode, value, since, "
                "after_photo_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (event_id, source_kind, source_name) DO UPDATE SET mode = excluded.mode, "
                "value = excluded.value, since = excluded.since, after_photo_id = excluded.after_photo_id, "
                "updated_at = excluded.updated_at", (event_id, kind, name, mode, value, since, after, now))
            waiting = ("WHERE event_id = ? AND source_kind = ? AND source_name = ? "
                       "AND state = 'waiting'")
            if old and old["mode"] != mode:
                self.conn.execute("UPDATE autopublish_photos SET state = 'cancelled', reason = ?, "
                                  f"settled_at = ? {waiting}",
                                  ("the rule changed", now, event_id, kind, name))
            elif mode == "all":
                self.conn.execute(f"UPDATE autopublish_photos SET due_at = imported_ts + ? {waiting}",
                                  (value, event_id, kind, name))
            if self.get_setting(SCANNED) is None:  # the first rule: older photos are not looked at
                self.set_setting(SCANNED, newest)

    # -- new photos ---------------------------------------------------------------------------
    def autopublish_unscanned(self, limit: int = 500) -> list[dict[str, Any]]:
        """Photos not yet looked at by the rules, oldest first, with their import's source."""
        after = self.get_setting(SCANNED)
        if after is None:  # no rule was ever set: nothing to look at
            return []
        return self.rows(
            """SELECT ph.id, ph.imported_at, ph.rating, ph.protected, i.source_kind, i.source_name
               FROM photos ph LEFT JOIN imports i ON i.id = ph.import_id
               WHERE ph.id > ? AND ph.deleted_ts IS NULL ORDER BY ph.id LIMIT ?""", (after, limit))

    def autopublish_scanned(self, last_photo_id: int, waiting: list[dict[str, Any]]) -> None:
        """Record the photos a rule matched (``waiting`` rows) and move past ``last_photo_id``."""
        with self.transaction():
            for row in waiting:
                self.conn.execute(
                    "INSERT OR IGNORE INTO autopublish_photos (photo_id, event_id, source_kind, "
                    "source_name, mode, imported_ts, due_at) VALUES (:photo_id, :event_id, "
                    ":source_kind, :source_name, :mode, :imported_ts, :due_at)", row)
            self.set_setting(SCANNED, last_photo_id)

    # -- waiting photos -----------------------------------------------------------------------
    def autopublish_due(self, now: float) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM autopublish_photos WHERE state = 'waiting' AND due_at <= ? "
                         "ORDER BY due_at, photo_id", (now,))

    def settle_autopublish(self, photo_id: int, state: str, reason: str | None = None,
                           publication_id: int | None = None) -> None:
        self.conn.execute(
            "UPDATE autopublish_photos SET state = ?, reason = ?, publication_id = ?, settled_at = ? "
            "WHERE photo_id = ? AND state = 'waiting'", (state, reason, publication_id, utcnow(), photo_id))

    def autopublish_waiting(self, event_id: int) -> list[dict[str, Any]]:
        """Photos of the event in their grace window (rejected ones are not: they will be skipped)."""
        return self.rows(
            """SELECT a.photo_id, a.due_at, a.mode, a.source_kind, a.source_name FROM autopublish_photos a
               WHERE a.event_id = ? AND a.state = 'waiting'
                 AND NOT EXISTS (SELECT 1 FROM photo_rejections r WHERE r.photo_id = a.photo_id)
               ORDER BY a.due_at""", (event_id,))

    def autopublish_photo(self, photo_id: int) -> dict[str, Any] | None:
        return self.row("SELECT * FROM autopublish_photos WHERE photo_id = ?", (photo_id,))
