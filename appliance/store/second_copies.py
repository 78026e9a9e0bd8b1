"""The second copy: which originals (buffer photos, archived RAW files) each target holds.

A target is ``drive`` (the second drive) or ``bucket`` (the second bucket prefix). A row in
``second_copies`` means the copy was written and verified; ``checked_ts`` is when it was last
read back. ``second_copy_targets`` holds each target's state for people (available, why not).
"""

from __future__ import annotations

import time
from typing import Any

from .connection import StoreBase, utcnow

# Every original: photos live in the buffer, RAW files in the archive (paths relative to those).
ORIGINALS = """
    SELECT sha256, 'buffer' AS folder, buffer_path AS path, size, imported_at FROM photos
    WHERE purged_at IS NULL
    UNION ALL
    SELECT sha256, 'archive' AS folder, archive_path AS path, size, imported_at FROM raw_files
"""


class SecondCopies(StoreBase):
    """Progress of the second copy, per target; survives restarts (the copier resumes from it)."""

    def second_copy_pending(self, target: str, limit: int = 50) -> list[dict[str, Any]]:
        """Originals ``target`` does not hold yet, oldest first."""
        return self.rows(
            f"""WITH originals AS ({ORIGINALS})
                SELECT o.* FROM originals o WHERE NOT EXISTS (
                    SELECT 1 FROM second_copies c WHERE c.target = ? AND c.sha256 = o.sha256)
                ORDER BY o.imported_at, o.sha256 LIMIT ?""",
            (target, limit),
        )

    def second_copies_held(self, target: str, checked_before: float | None = None,
                           limit: int = -1) -> list[dict[str, Any]]:
        """Copies ``target`` holds (with where their original lives), least recently checked
        first; only those last checked before ``checked_before`` when given."""
        return self.rows(
            f"""WITH originals AS ({ORIGINALS})
                SELECT o.*, c.checked_ts FROM second_copies c JOIN originals o USING (sha256)
                WHERE c.target = ? AND c.checked_ts < ?
                ORDER BY c.checked_ts, c.sha256 LIMIT ?""",
            (target, float("inf") if checked_before is None else checked_before, limit),
        )

    def record_second_copy(self, target: str, sha256: str, size: int) -> None:
        """``target`` now holds a verified copy of ``sha256``."""
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO second_copies (target, sha256, size, copied_at, checked_ts) "
                "VALUES (?, ?, ?, ?, ?)", (target, sha256, size, utcnow(), time.time()))

    def second_copy_checked(self, target: str, sha256: str) -> None:
        with self.transaction():
            self.conn.execute("UPDATE second_copies SET checked_ts = ? WHERE target = ? AND sha256 = ?",
                              (time.time(), target, sha256))

    def forget_second_copies(self, target: str, sha256s: list[str]) -> None:
        """These copies are gone or damaged: copy them again."""
        with self.transaction():
            self.conn.executemany("DELETE FROM second_copies WHERE target = ? AND sha256 = ?",
                                  [(target, sha) for sha in sha256s])

    def second_copy_counts(self, target: str) -> dict[str, int]:
        """``total`` originals, ``done`` held by ``target``, ``pending`` still to copy."""
        total = self.scalar(f"SELECT COUNT(*) FROM ({ORIGINALS})")
        done = self.scalar(
            "SELECT COUNT(*) FROM second_copies c WHERE c.target = ? AND ("
            "EXISTS (SELECT 1 FROM photos p WHERE p.sha256 = c.sha256 AND p.purged_at IS NULL) OR "
            "EXISTS (SELECT 1 FROM raw_files r WHERE r.sha256 = c.sha256))", (target,))
        return {"total": int(total), "done": int(done), "pending": int(total) - int(done)}

    def set_second_copy_target(self, target: str, **fields: Any) -> None:
        """Update a target's state (name, available, problem, last_error, last_error_at)."""
        fields["updated_at"] = utcnow()
        names = ", ".join(fields)
        updates = ", ".join(f"{k} = excluded.{k}" for k in fields)
        with self.transaction():
            self.conn.execute(
                f"INSERT INTO second_copy_targets (target, {names}) VALUES (?, "
                f"{', '.join('?' for _ in fields)}) ON CONFLICT (target) DO UPDATE SET {updates}",
                (target, *fields.values()))

    def second_copy_targets(self) -> list[dict[str, Any]]:
        """Each target the copier has run for, with its counts."""
        targets = self.rows("SELECT * FROM second_copy_targets ORDER BY target DESC")
        for row in targets:
            row.update(self.second_copy_counts(row["target"]))
        return targets

    def publish_busy(self, uplink: bool = False) -> bool:
        """Is a publication being rendered (``uplink``: or an upload to the gallery waiting)? The
        second copy waits meanwhile, so it never delays a publish."""
        if self.scalar("SELECT EXISTS (SELECT 1 FROM publications WHERE state IN "
                       "('queued', 'processing'))"):
            return True
        return uplink and bool(self.scalar(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'pending' AND kind IN ('upload', 'manifest'))"))

    def remove_second_copy_target(self, target: str) -> None:
        """The target was switched off: it no longer shows (its copies stay recorded)."""
        with self.transaction():
            self.conn.execute("DELETE FROM second_copy_targets WHERE target = ?", (target,))
