"""Batch actions of the admin: one request, one transaction, one ``batches`` row and one
``batch_items`` row per photo (ok, or why not, and the publication it queued).

Delete is soft: ``photos.deleted_ts`` hides a photo from every read at once; undo clears it while
the undo window lasts; afterwards the admin's housekeeping removes its buffer files and marks the
row ``purged_at`` (the row stays: its sha256 keeps the card's copy from being imported again).
A photo with a publication queued, rendering or published is refused ("unpublish it first").
"""

from __future__ import annotations

import json
import time
from typing import Any

from .connection import utcnow
from .culling import ACTIVE, IDS, VISIBLE, Culling, id_list
from .publications import Publications

NO_PHOTO = "no such photo in the buffer"
UNPUBLISH_FIRST = "published or publishing: unpublish it first"
ALREADY = "already published or publishing"


class UndoRefused(Exception):
    """The batch is not a delete, was undone already or its undo window is over."""


class Batches(Culling, Publications):
    """Batches and their items (mixed into Store)."""

    def insert_batch(self, action: str, value: Any, results: list[dict[str, Any]]) -> int:
        """Record a batch and its per-photo results (inside the caller's transaction)."""
        cursor = self.conn.execute(
            "INSERT INTO batches (action, value, total, created_at, created_ts) VALUES (?, ?, ?, ?, ?)",
            (action, json.dumps(value), len(results), utcnow(), time.time()))
        batch_id = int(cursor.lastrowid or 0)
        self.conn.executemany(
            "INSERT OR IGNORE INTO batch_items (batch_id, photo_id, ok, error, publication_id) "
            "VALUES (?, ?, ?, ?, ?)",
            [(batch_id, r["id"], int(r["ok"]), r.get("error"), r.get("publication_id")) for r in results])
        return batch_id

    def _each(self, photo_ids: list[int], ok: set[int], error: str = NO_PHOTO) -> list[dict[str, Any]]:
        return [{"id": i, "ok": True} if i in ok else {"id": i, "ok": False, "error": error}
                for i in photo_ids]

    def batch_update(self, action: str, photo_ids: list[int], value: Any) -> tuple[int, list[dict[str, Any]]]:
        """rate (0-5), flag (pick, reject, none) or edit (a validated recipe: the draft) the
        visible photos among ``photo_ids`` in one transaction; returns (batch id, results)."""
        with self.transaction():
            visible = self.visible_ids(photo_ids)
            if action == "rate":
                self.rate_photos(list(visible), value)
            elif action == "flag":
                self.flag_photos(list(visible), value)
            elif action == "edit":
                self.save_drafts(list(visible), value)
            else:
                raise ValueError(f"not an update: {action}")
            results = self._each(photo_ids, visible)
            return self.insert_batch(action, value, results), results

    def batch_delete(self, photo_ids: list[int]) -> tuple[int, list[dict[str, Any]]]:
        """Soft-delete the visible photos that have no publication queued, rendering or published."""
        with self.transaction():
            rows = self.conn.execute(f"SELECT id, {ACTIVE} FROM photos WHERE id IN ({IDS}) AND {VISIBLE}",
                                     (id_list(photo_ids),)).fetchall()
            active = {r[0] for r in rows if r[1]}
            ok = {r[0] for r in rows} - active
            self.conn.execute(f"UPDATE photos SET deleted_ts = ? WHERE id IN ({IDS})",
                              (time.time(), id_list(list(ok))))
            results = [r if r["ok"] or r["id"] not in active else {**r, "error": UNPUBLISH_FIRST}
                       for r in self._each(photo_ids, ok)]
            return self.insert_batch("delete", None, results), results

    def publish_batch(self, wanted: list[dict[str, Any]], refused: dict[int, str], value: Any,
                      order: list[int]) -> tuple[int, list[dict[str, Any]]]:
        """Queue publications in the current event for ``wanted`` ({id, recipe, base}), each
        checked again here (in the buffer, nothing queued/rendering/published), plus the photos
        ``refused`` already; one transaction. Clears their rejection."""
        with self.transaction():
            event_id = self.get_setting("current_event_id")
            if event_id is None:
                raise LookupError("no current event")
            results: dict[int, dict[str, Any]] = {i: {"id": i, "ok": False, "error": e}
                                                  for i, e in refused.items()}
            rows = self.conn.execute(f"SELECT id, {ACTIVE} FROM photos WHERE id IN ({IDS}) AND {VISIBLE}",
                                     (id_list([w["id"] for w in wanted]),)).fetchall()
            state = dict(rows)
            for item in wanted:
                photo_id = item["id"]
                if photo_id in refused:
                    continue
                if photo_id not in state:
                    results[photo_id] = {"id": photo_id, "ok": False, "error": NO_PHOTO}
                elif state[photo_id]:
                    results[photo_id] = {"id": photo_id, "ok": False, "error": ALREADY}
                else:
                    pub_id = self.insert_publication(photo_id, item["recipe"], item["base"], event_id)
                    results[photo_id] = {"id": photo_id, "ok": True, "publication_id": pub_id}
            queued = [i for i, r in results.items() if r["ok"]]
            self.conn.execute(f"DELETE FROM photo_rejections WHERE photo_id IN ({IDS})", (id_list(queued),))
            listed = [results[i] for i in order if i in results]
            return self.insert_batch("publish", value, listed), listed

    def batch(self, batch_id: int) -> dict[str, Any] | None:
        return self.row("SELECT * FROM batches WHERE id = ?", (batch_id,))

    def batch_items(self, batch_id: int) -> list[dict[str, Any]]:
        """Each photo of a batch with its outcome and, for a publish, its publication's state,
        ``live_at``, error and the last error of an upload being retried."""
        return self.rows(
            """SELECT bi.photo_id, bi.ok, bi.error, bi.publication_id, ph.original_name,
                      p.state, p.live_at, p.error AS publish_error,
                      (SELECT j.last_error FROM jobs j WHERE j.publication_id = p.id AND j.kind = 'upload'
                         AND j.state = 'pending' AND j.last_error IS NOT NULL LIMIT 1) AS sync_error
               FROM batch_items bi LEFT JOIN photos ph ON ph.id = bi.photo_id
                 LEFT JOIN publications p ON p.id = bi.publication_id
               WHERE bi.batch_id = ? ORDER BY bi.photo_id""", (batch_id,))

    def undo_delete(self, batch_id: int, window_s: float) -> int:
        """Bring back the photos a delete batch hid, within ``window_s`` of it; returns how many."""
        with self.transaction():
            batch = self.batch(batch_id)
            if batch is None:
                raise LookupError(f"no batch {batch_id}")
            if batch["action"] != "delete":
                raise UndoRefused(f"batch {batch_id} is a {batch['action']}: only a delete can be undone")
            if batch["undone_at"]:
                raise UndoRefused(f"batch {batch_id} was undone already")
            if time.time() - batch["created_ts"] > window_s:
                raise UndoRefused(f"too late: a delete can be undone for {window_s:g} seconds")
            restored = self.conn.execute(
                "UPDATE photos SET deleted_ts = NULL WHERE purged_at IS NULL AND id IN "
                "(SELECT photo_id FROM batch_items WHERE batch_id = ? AND ok = 1)", (batch_id,)).rowcount
            self.conn.execute("UPDATE batches SET undone_at = ? WHERE id = ?", (utcnow(), batch_id))
        return restored

    # -- purge -------------------------------------------------------------------------------
    def deleted_to_purge(self, deleted_before: float) -> list[dict[str, Any]]:
        """Deleted photos whose undo window is over and whose files are still there, with
        ``shared`` / ``thumb_shared`` set when another photo not purged points at the same buffer
        file / thumbnail."""
        return self.rows(
            """SELECT d.id, d.sha256, d.buffer_path, d.thumb_path,
                      EXISTS (SELECT 1 FROM photos o WHERE o.id != d.id AND o.purged_at IS NULL
                              AND o.buffer_path = d.buffer_path) AS shared,
                      EXISTS (SELECT 1 FROM photos o WHERE o.id != d.id AND o.purged_at IS NULL
                              AND o.thumb_path = d.thumb_path) AS thumb_shared
               FROM photos d WHERE d.deleted_ts IS NOT NULL AND d.deleted_ts < ? AND d.purged_at IS NULL""",
            (deleted_before,))

    def mark_purged(self, photo_ids: list[int]) -> None:
        self.conn.execute(f"UPDATE photos SET purged_at = ? WHERE id IN ({IDS})",
                          (utcnow(), id_list(photo_ids)))


__all__ = ["NO_PHOTO", "UNPUBLISH_FIRST", "Batches", "UndoRefused"]
