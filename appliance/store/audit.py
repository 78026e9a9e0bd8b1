"""The audit log: who changed what, when, and which photos (every state change in the admin)."""

from __future__ import annotations

import json
from typing import Any

from .connection import StoreBase, utcnow


class Audit(StoreBase):
    """Appends to ``audit_log`` and reads it back for the owner's page and the export."""

    def audit(self, *, user_id: int | None, user_name: str, role: str, action: str, method: str = "",
              path: str = "", photo_ids: list[int] | None = None, detail: dict[str, Any] | None = None,
              event_id: int | None = None, client: str = "") -> int:
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO audit_log (at, user_id, user_name, role, action, method, path, photo_ids, "
                "detail, event_id, client) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (utcnow(), user_id, user_name, role, action, method, path,
                 ",".join(str(i) for i in photo_ids or []), json.dumps(detail or {}, sort_keys=True),
                 event_id, client))
        return int(cur.lastrowid or 0)

    def audit_log(self, event_id: int | None = None, before_id: int | None = None,
                  limit: int = 100) -> list[dict[str, Any]]:
        """Newest first; of one event (and the entries of no event) when ``event_id`` is given."""
        where, params = ["1 = 1"], []
        if event_id is not None:
            where.append("(event_id = ? OR event_id IS NULL)")
            params.append(event_id)
        if before_id is not None:
            where.append("id < ?")
            params.append(before_id)
        rows = self.rows(f"SELECT * FROM audit_log WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
                         (*params, limit))
        for r in rows:
            r["photo_ids"] = [int(i) for i in r["photo_ids"].split(",") if i]
            r["detail"] = json.loads(r["detail"])
        return rows
