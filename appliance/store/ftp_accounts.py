"""FTP accounts: one per camera or second shooter, with what each has sent."""

from __future__ import annotations

from typing import Any

from .connection import StoreBase, utcnow


class FtpAccounts(StoreBase):
    """Accounts cameras log in with (passwords stored hashed by the caller) and their counters."""

    def add_ftp_account(self, user: str, password_hash: str, label: str = "") -> int:
        """A new account; raises ``sqlite3.IntegrityError`` if ``user`` exists."""
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO ftp_accounts (user, password_hash, label, created_at) VALUES (?, ?, ?, ?)",
                (user, password_hash, label, utcnow()))
        return int(cur.lastrowid or 0)

    def ftp_account(self, user: str) -> dict[str, Any] | None:
        return self.row("SELECT * FROM ftp_accounts WHERE user = ?", (user,))

    def ftp_accounts(self) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM ftp_accounts ORDER BY user")

    def count_ftp_frame(self, user: str) -> None:
        """One more frame received complete from ``user``'s camera."""
        with self.transaction():
            self.conn.execute(
                "UPDATE ftp_accounts SET frames_received = frames_received + 1, last_frame_at = ? "
                "WHERE user = ?", (utcnow(), user))

    def count_ftp_partial(self, user: str) -> None:
        """One more interrupted upload from ``user`` discarded (it never became a photo)."""
        with self.transaction():
            self.conn.execute(
                "UPDATE ftp_accounts SET partials_discarded = partials_discarded + 1 WHERE user = ?",
                (user,))
