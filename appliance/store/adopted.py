"""Photos adopted from another appliance's shard (an owner's "take over", docs/multi.md).

The entries are kept as the other appliance wrote them (plus its credit and clock correction);
this appliance lists the live ones in its own shard and may unpublish them, which lets safe mode
delete exactly their keys. The other appliance's shard key may be deleted once taken over.
"""

from __future__ import annotations

import json
from typing import Any

from .connection import StoreBase, utcnow

Adoption = tuple[str, dict[str, Any], list[str]]  # name, manifest entry, bucket keys


class Adopted(StoreBase):
    """``takeovers`` and ``adopted_photos``."""

    def record_takeover(self, event_id: int, source_id: str, shard_key: str,
                        photos: list[Adoption]) -> int:
        """Note the take-over and its photos (a name already adopted stays as it is); returns how
        many photos are new here. Call inside the caller's transaction."""
        now = utcnow()
        self.conn.execute(
            "INSERT INTO takeovers (event_id, source_id, shard_key, taken_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (event_id, source_id) DO UPDATE SET taken_at = excluded.taken_at, "
            "shard_key = excluded.shard_key", (event_id, source_id, shard_key, now))
        takeover = self.scalar("SELECT id FROM takeovers WHERE event_id = ? AND source_id = ?",
                               (event_id, source_id))
        added = 0
        for name, entry, keys in photos:
            added += self.conn.execute(
                "INSERT INTO adopted_photos (takeover_id, event_id, name, entry, keys, adopted_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, name) DO NOTHING",
                (takeover, event_id, name, json.dumps(entry), json.dumps(keys), now)).rowcount
        return added

    def adopted(self, event_id: int) -> list[dict[str, Any]]:
        """The live adopted photos of an event (``entry`` and ``keys`` decoded), oldest first."""
        rows = self.rows(
            "SELECT a.id, a.name, a.entry, a.keys, a.adopted_at, t.source_id FROM adopted_photos a "
            "JOIN takeovers t ON t.id = a.takeover_id WHERE a.event_id = ? AND a.unpublished_at IS NULL "
            "ORDER BY a.id", (event_id,))
        for row in rows:
            row["entry"], row["keys"] = json.loads(row["entry"]), json.loads(row["keys"])
        return rows

    def adopted_keys(self, event_id: int) -> set[str]:
        """The bucket keys of the event's live adopted photos (this appliance's to verify)."""
        return {k for row in self.adopted(event_id) for k in row["keys"]}

    def takeovers(self, event_id: int) -> list[dict[str, Any]]:
        """Each appliance taken over in the event, with how many of its photos are still live."""
        return self.rows(
            "SELECT t.source_id, t.taken_at, COUNT(a.id) AS live FROM takeovers t LEFT JOIN "
            "adopted_photos a ON a.takeover_id = t.id AND a.unpublished_at IS NULL "
            "WHERE t.event_id = ? GROUP BY t.id ORDER BY t.id", (event_id,))

    def unpublish_adopted(self, event_id: int, ids: list[int] | None = None) -> list[str]:
        """Mark adopted photos unpublished (all of the event's, or ``ids``); returns their keys,
        which safe mode now lets this appliance delete. Call inside the caller's transaction."""
        live = [r for r in self.adopted(event_id) if ids is None or r["id"] in ids]
        now = utcnow()
        for row in live:
            self.conn.execute("UPDATE adopted_photos SET unpublished_at = ? WHERE id = ?", (now, row["id"]))
        return [k for row in live for k in row["keys"]]

    def adopted_deletable(self, event_id: int, key: str) -> bool:
        """Safe mode: ``key`` is a taken-over shard, or an object of an unpublished adopted photo
        (and of no live one)."""
        if self.scalar("SELECT 1 FROM takeovers WHERE event_id = ? AND shard_key = ?", (event_id, key)):
            return True
        return bool(self.scalar(
            "SELECT 1 FROM adopted_photos a, json_each(a.keys) k WHERE a.event_id = ? AND k.value = ? "
            "AND a.unpublished_at IS NOT NULL", (event_id, key))) and key not in self.adopted_keys(event_id)
