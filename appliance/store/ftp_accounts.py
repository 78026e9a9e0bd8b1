"""FTP accounts: one per camera or second shooter, with what each has sent and its connection."""

from __future__ import annotations

from typing import Any

from .connection import StoreBase, utcnow


class FtpAccounts(StoreBase):
    """Accounts cameras log in with (passwords stored hashed by the caller) and their counters."""

    def add_ftp_account(self, user: str, password_hash: str, label: str = "",
                        event_id: int | None = None, owner_id: int | None = None) -> int:
        """A new account (of the admin's user ``owner_id``; None: the first owner); raises
        ``sqlite3.IntegrityError`` if ``user`` exists."""
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO ftp_accounts (user, password_hash, label, event_id, owner_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (user, password_hash, label, event_id, owner_id, utcnow()))
        return int(cur.lastrowid or 0)

    def update_ftp_account(self, user: str, **changes: Any) -> bool:
        """Change an account's ``password_hash``, ``label``, ``event_id`` or ``owner_id``; False if
        it is gone."""
        allowed = {"password_hash", "label", "event_id", "owner_id"}
        assert changes and set(changes) <= allowed, changes
        columns = ", ".join(f"{name} = ?" for name in changes)
        with self.transaction():
            cur = self.conn.execute(f"UPDATE ftp_accounts SET {columns} WHERE user = ?",
                                    (*changes.values(), user))
        return cur.rowcount > 0

    def delete_ftp_account(self, user: str) -> bool:
        """Remove an account (its frames stay in the buffer; a file still arriving is imported)."""
        with self.transaction():
            cur = self.conn.execute("DELETE FROM ftp_accounts WHERE user = ?", (user,))
        return cur.rowcount > 0

    def ftp_account(self, user: str) -> dict[str, Any] | None:
        return self.row("SELECT * FROM ftp_accounts WHERE user = ?", (user,))

    def ftp_accounts(self) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM ftp_accounts ORDER BY user")

    def ftp_accounts_listing(self) -> list[dict[str, Any]]:
        """Accounts for the admin: no password hash, with the slug of their event and their user
        (``owner_id`` None: the first owner)."""
        return self.rows(
            "SELECT a.user, a.label, a.event_id, e.slug AS event, a.frames_received, "
            "a.partials_discarded, a.last_frame_at, a.connected_since, a.client_address, a.created_at, "
            "a.owner_id, u.name AS owner_name, u.role AS owner_role "
            "FROM ftp_accounts a LEFT JOIN events e ON e.id = a.event_id "
            "LEFT JOIN users u ON u.id = a.owner_id ORDER BY a.user")

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

    def ftp_session(self, user: str, address: str | None) -> None:
        """``user``'s camera is connected from ``address`` (kept since its first connection), or
        has no connection left (None)."""
        with self.transaction():
            if address is None:
                self.conn.execute("UPDATE ftp_accounts SET connected_since = NULL, client_address = NULL "
                                  "WHERE user = ?", (user,))
            else:
                self.conn.execute(
                    "UPDATE ftp_accounts SET connected_since = COALESCE(connected_since, ?), "
                    "client_address = ? WHERE user = ?", (utcnow(), address, user))

    def end_ftp_sessions(self) -> None:
        """No camera is connected (the FTP service starts or stops)."""
        with self.transaction():
            self.conn.execute("UPDATE ftp_accounts SET connected_since = NULL, client_address = NULL "
                              "WHERE connected_since IS NOT NULL")
