"""The buffer: photos imported from cards and hot folders, identified by their sha256."""

from __future__ import annotations

from typing import Any

from .connection import StoreBase, utcnow


class Photos(StoreBase):
    """Buffer photos."""

    def photo_by_sha(self, sha256: str) -> dict[str, Any] | None:
        return self.row("SELECT * FROM photos WHERE sha256 = ?", (sha256,))

    def photo_id_by_sha(self, sha256: str) -> int | None:
        return self.scalar("SELECT id FROM photos WHERE sha256 = ?", (sha256,))

    def photo_id_by_pair_key(self, key: str) -> int | None:
        """The newest photo of a frame (same folder and base name), e.g. the JPEG beside a RAW."""
        return self.scalar("SELECT id FROM photos WHERE pair_key = ? ORDER BY id DESC LIMIT 1", (key,))

    def photo(self, photo_id: int) -> dict[str, Any] | None:
        """A photo in the buffer (None when it was deleted)."""
        return self.row("SELECT * FROM photos WHERE id = ? AND deleted_ts IS NULL", (photo_id,))

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
            "all": "WHERE deleted_ts IS NULL",
            "new": "WHERE deleted_ts IS NULL AND NOT EXISTS (SELECT 1 FROM publications p "
            "WHERE p.photo_id = photos.id)",
            "published": "WHERE deleted_ts IS NULL AND EXISTS (SELECT 1 FROM publications p "
            "WHERE p.photo_id = photos.id AND p.state = 'published')",
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
            "SELECT * FROM photos WHERE deleted_ts IS NULL "
            "ORDER BY COALESCE(capture_time, imported_at) DESC, id DESC LIMIT 1"
        )
