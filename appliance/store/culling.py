"""Culling reads: the buffer filtered by rating, flag, state, source and time, sorted by capture or
import time; the sources to filter by; ratings, picks and draft edits of photos.

A mixin of :class:`~appliance.store.Store`. A photo's flag is ``picked`` (``photos.picked_at``) or
``rejected`` (a row in ``photo_rejections``, which everything else relies on), never both. A
soft-deleted photo (``deleted_ts`` set) is invisible to every read here. Ids are passed to SQLite
as one JSON array (``json_each``): no limit on how many one statement takes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .admin_views import BUFFER_FILTERS, SORT
from .connection import StoreBase, utcnow

# Each must match the expression of an index (photos_by_sort, photos_by_import_time) for SQLite to
# walk that index in order instead of sorting.
SORTS = {"capture": SORT, "import": "imported_at"}
FLAGS = ("picked", "rejected", "unflagged")
STATES = ("published", "unpublished")
VISIBLE = "photos.deleted_ts IS NULL"
REJECTED = "EXISTS (SELECT 1 FROM photo_rejections r WHERE r.photo_id = photos.id)"
ACTIVE = BUFFER_FILTERS["published"]  # a publication queued, rendering or published
IDS = "SELECT value FROM json_each(?)"


@dataclass(frozen=True)
class BufferQuery:
    """What the buffer shows: the old filter plus the culling filters (validated by the caller)."""

    filter_: str = "all"
    rating: int = 0  # at least this many stars (0: any)
    flag: str | None = None  # picked | rejected | unflagged
    state: str | None = None  # published | unpublished
    source_kind: str | None = None
    source_name: str | None = None  # with source_kind: that camera, card, account
    from_: str | None = None  # sort time >= (ISO 8601 as stored, no zone)
    to: str | None = None  # sort time <
    sort: str = "capture"

    @property
    def sort_expr(self) -> str:
        return SORTS[self.sort]

    def where(self) -> tuple[list[str], list[Any]]:
        """The WHERE terms (joined with AND) and their parameters."""
        terms, params = [VISIBLE, BUFFER_FILTERS[self.filter_]], []
        if self.rating > 0:
            terms.append("photos.rating >= ?")
            params.append(self.rating)
        if self.flag == "picked":
            terms.append("photos.picked_at IS NOT NULL")
        elif self.flag == "rejected":
            terms.append(REJECTED)
        elif self.flag == "unflagged":
            terms.append(f"photos.picked_at IS NULL AND NOT {REJECTED}")
        if self.state == "published":
            terms.append(ACTIVE)
        elif self.state == "unpublished":
            terms.append(f"NOT {ACTIVE}")
        if self.source_kind is not None:
            imports = "SELECT id FROM imports WHERE COALESCE(source_kind, 'other') = ?"
            params.append(self.source_kind)
            if self.source_name is not None:
                imports += " AND COALESCE(source_name, '') = ?"
                params.append(self.source_name)
            orphan = " OR photos.import_id IS NULL" if self.source_kind == "other" else ""
            # (unary + keeps SQLite on the sort index rather than sorting a big source's photos)
            terms.append(f"(+photos.import_id IN ({imports}){orphan})")
        if self.from_ is not None:
            terms.append(f"{self.sort_expr} >= ?")
            params.append(self.from_)
        if self.to is not None:
            terms.append(f"{self.sort_expr} < ?")
            params.append(self.to)
        return terms, params


def id_list(photo_ids: list[int]) -> str:
    """Photo ids as the one parameter of :data:`IDS`."""
    return json.dumps([int(i) for i in photo_ids])


class Culling(StoreBase):
    """Filtered buffer pages, their sources, ratings, flags and drafts (mixed into Store)."""

    def query_rows(self, query: BufferQuery, limit: int, after: tuple[str, int] | None = None,
                   offset: int = 0) -> list[dict[str, Any]]:
        """Photos of a query newest first, each with its ``sort_key``, ``rejected_at``, rating,
        flag, protect flag and import source; ``after`` (sort key, id) starts after that photo
        (keyset pagination), else the page starts at ``offset``."""
        sort = query.sort_expr
        terms, params = query.where()
        if after is not None:
            key, photo_id = after
            # (key, id) < (after key, after id), written so that SQLite seeks the index to it
            terms.append(f"{sort} <= ? AND ({sort} < ? OR photos.id < ?)")
            params += [key, key, photo_id]
        return self.rows(
            f"""SELECT photos.id, original_name, capture_time, imported_at, camera_make, camera_model,
                       width, height, rating, protected, picked_at, {sort} AS sort_key,
                       (SELECT r.rejected_at FROM photo_rejections r WHERE r.photo_id = photos.id)
                         AS rejected_at,
                       (SELECT i.source_kind FROM imports i WHERE i.id = photos.import_id) AS source_kind,
                       (SELECT i.source_name FROM imports i WHERE i.id = photos.import_id) AS source_name
                FROM photos WHERE {' AND '.join(terms)}
                ORDER BY {sort} DESC, photos.id DESC LIMIT ? OFFSET ?""",
            (*params, limit, 0 if after is not None else offset),
        )

    def buffer_rows(self, filter_: str, limit: int, after: tuple[str, int] | None = None,
                    offset: int = 0) -> list[dict[str, Any]]:
        """Photos of one of the old filters (:data:`BUFFER_FILTERS`), as :meth:`query_rows`."""
        return self.query_rows(BufferQuery(filter_=filter_), limit, after, offset)

    def query_count(self, query: BufferQuery) -> int:
        terms, params = query.where()
        return int(self.scalar(f"SELECT COUNT(*) FROM photos WHERE {' AND '.join(terms)}", params))

    def query_ids(self, query: BufferQuery, limit: int) -> list[int]:
        """Every id of a query newest first, at most ``limit``."""
        terms, params = query.where()
        found = self.conn.execute(
            f"SELECT photos.id FROM photos WHERE {' AND '.join(terms)} "
            f"ORDER BY {query.sort_expr} DESC, photos.id DESC LIMIT ?", (*params, limit))
        return [r[0] for r in found.fetchall()]

    def buffer_sources(self) -> list[dict[str, Any]]:
        """Each import source with photos in the buffer: kind, name and how many photos."""
        # Counted per import over the photos_by_import index first: every buffer page carries this.
        return self.rows(
            """SELECT COALESCE(i.source_kind, 'other') AS kind, COALESCE(i.source_name, '') AS name,
                      SUM(p.n) AS count
               FROM (SELECT import_id, COUNT(*) AS n FROM photos WHERE deleted_ts IS NULL
                     GROUP BY import_id) p
               LEFT JOIN imports i ON i.id = p.import_id GROUP BY 1, 2 ORDER BY 1, 2""")

    def visible_ids(self, photo_ids: list[int]) -> set[int]:
        """Which of these photos are in the buffer (recorded, not deleted)."""
        found = self.conn.execute(f"SELECT id FROM photos WHERE id IN ({IDS}) AND {VISIBLE}",
                                  (id_list(photo_ids),))
        return {r[0] for r in found.fetchall()}

    # -- ratings, flags, drafts (inside the caller's transaction when there is one) -------------
    def rate_photos(self, photo_ids: list[int], rating: int) -> int:
        """Set the rating (0-5) of the visible photos among ``photo_ids``; returns how many."""
        return self.conn.execute(f"UPDATE photos SET rating = ? WHERE id IN ({IDS}) AND {VISIBLE}",
                                 (rating, id_list(photo_ids))).rowcount

    def flag_photos(self, photo_ids: list[int], flag: str) -> int:
        """``pick``, ``reject`` or ``none`` the visible photos (one flag clears the other);
        returns how many photos there were."""
        ids, now = id_list(photo_ids), utcnow()
        picked = now if flag == "pick" else None
        updated = self.conn.execute(
            f"UPDATE photos SET picked_at = ? WHERE id IN ({IDS}) AND {VISIBLE}", (picked, ids)).rowcount
        if flag == "reject":
            self.conn.execute(
                f"INSERT OR IGNORE INTO photo_rejections (photo_id, rejected_at) "
                f"SELECT id, ? FROM photos WHERE id IN ({IDS}) AND {VISIBLE}", (now, ids))
        else:
            self.conn.execute(f"DELETE FROM photo_rejections WHERE photo_id IN ({IDS})", (ids,))
        return updated

    def save_drafts(self, photo_ids: list[int], recipe: dict[str, Any] | None) -> int:
        """Save the same draft edit (a validated recipe; None clears it) on the visible photos."""
        draft = json.dumps(recipe) if recipe else None
        return self.conn.execute(f"UPDATE photos SET draft = ? WHERE id IN ({IDS}) AND {VISIBLE}",
                                 (draft, id_list(photo_ids))).rowcount

    def draft(self, photo_id: int) -> dict[str, Any] | None:
        """A visible photo's draft edit ({} when it has none); None when there is no such photo."""
        row = self.row(f"SELECT draft FROM photos WHERE id = ? AND {VISIBLE}", (photo_id,))
        if row is None:
            return None
        return json.loads(row["draft"]) if row["draft"] else {}

    def sidecar_rows(self) -> list[dict[str, Any]]:
        """Every visible photo with what its XMP sidecar says (rating, ``picked``, ``rejected``)
        and its originals: the buffer file (unless derived from a RAW/HEIC) and ``raws``, the
        archive paths of its RAW/HEIC originals (a JSON list)."""
        return self.rows(
            f"""SELECT photos.id, original_name, buffer_path, derived_from, COALESCE(rating, 0) AS rating,
                       picked_at IS NOT NULL AS picked, {REJECTED} AS rejected,
                       (SELECT json_group_array(r.archive_path) FROM raw_files r
                        WHERE r.photo_id = photos.id) AS raws
                FROM photos WHERE {VISIBLE} ORDER BY photos.id""")

    def photos_for_publish(self, photo_ids: list[int]) -> dict[int, dict[str, Any]]:
        """The visible photos among ``photo_ids`` with their name, draft and whether a publication
        of theirs is queued, rendering or published (``active``)."""
        rows = self.rows(
            f"""SELECT id, original_name, draft, {ACTIVE} AS active FROM photos
                WHERE id IN ({IDS}) AND {VISIBLE}""", (id_list(photo_ids),))
        return {r["id"]: r for r in rows}


__all__ = ["FLAGS", "SORTS", "STATES", "BufferQuery", "Culling", "id_list"]
