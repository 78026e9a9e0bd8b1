"""Accounts of the admin: users with a role, their revocable sessions and one-time invites.

Passwords and tokens reach the store already hashed (:mod:`appliance.admin.passwords` hashes
passwords with argon2; session and invite tokens are stored as their sha256, never as sent).
A role is ``owner`` (everything), ``editor`` (cull, rate, edit, publish) or ``viewer`` (browse).
"""

from __future__ import annotations

from typing import Any

from .connection import StoreBase, utcnow

ROLES = ("viewer", "editor", "owner")  # in order of power


def role_rank(role: str | None) -> int:
    """0 viewer, 1 editor, 2 owner; -1 for no (or an unknown) role."""
    return ROLES.index(role) if role in ROLES else -1


class Accounts(StoreBase):
    """Users, sessions and invites."""

    # -- users --------------------------------------------------------------------------------
    def add_user(self, name: str, role: str, password_hash: str) -> int:
        """A new user; raises ``sqlite3.IntegrityError`` if the name is taken (case-insensitive)."""
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                (name, role, password_hash, utcnow()))
        return int(cur.lastrowid or 0)

    def user(self, user_id: int) -> dict[str, Any] | None:
        return self.row("SELECT * FROM users WHERE id = ?", (user_id,))

    def user_named(self, name: str) -> dict[str, Any] | None:
        """The active user of that name (case-insensitive); None if missing or removed."""
        return self.row("SELECT * FROM users WHERE name = ? AND disabled_at IS NULL", (name,))

    def first_owner(self) -> dict[str, Any] | None:
        """The oldest active owner: who an empty login name means."""
        return self.row("SELECT * FROM users WHERE role = 'owner' AND disabled_at IS NULL "
                        "ORDER BY id LIMIT 1")

    def users(self) -> list[dict[str, Any]]:
        """Every user for the owner's list (no password hashes), with their open sessions."""
        return self.rows(
            "SELECT u.id, u.name, u.role, u.created_at, u.disabled_at, (SELECT COUNT(*) FROM user_sessions s "
            "WHERE s.user_id = u.id AND s.revoked_at IS NULL) AS sessions FROM users u ORDER BY u.id")

    def user_count(self) -> int:
        return int(self.scalar("SELECT COUNT(*) FROM users") or 0)

    def owners_left(self, without: int) -> int:
        """Active owners other than user ``without`` (the last owner cannot be demoted or removed)."""
        return int(self.scalar("SELECT COUNT(*) FROM users WHERE role = 'owner' AND disabled_at IS NULL "
                               "AND id != ?", (without,)) or 0)

    def set_user_role(self, user_id: int, role: str) -> bool:
        with self.transaction():
            cur = self.conn.execute("UPDATE users SET role = ? WHERE id = ? AND disabled_at IS NULL",
                                    (role, user_id))
        return cur.rowcount > 0

    def set_user_password(self, user_id: int, password_hash: str, keep_session: str | None = None) -> None:
        """A new password; every session of the user but ``keep_session`` is revoked."""
        with self.transaction():
            self.conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))
            self._revoke_where("user_id = ? AND id != ?", (user_id, keep_session or ""))

    def disable_user(self, user_id: int) -> bool:
        """Remove a user: no more logins, sessions revoked; the audit log keeps their name."""
        with self.transaction():
            cur = self.conn.execute("UPDATE users SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL",
                                    (utcnow(), user_id))
            self._revoke_where("user_id = ?", (user_id,))
        return cur.rowcount > 0

    def seed_owner(self, name: str, password_hash: str) -> int:
        """Make the first owner if there is no user yet; returns the first owner's id."""
        with self.transaction():
            if not self.scalar("SELECT COUNT(*) FROM users"):
                self.conn.execute(
                    "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, 'owner', ?, ?)",
                    (name, password_hash, utcnow()))
            return int(self.scalar("SELECT MIN(id) FROM users WHERE role = 'owner'") or 0)

    # -- sessions -----------------------------------------------------------------------------
    def open_session(self, session_id: str, user_id: int, now: float, client: str) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO user_sessions (id, user_id, created_at, last_seen_ts, client) "
                "VALUES (?, ?, ?, ?, ?)",
                (session_id, user_id, utcnow(), now, client))

    def live_session(self, session_id: str, seen_after: float = 0.0) -> dict[str, Any] | None:
        """The session (``session_id``) with its ``user_id``, ``name`` and ``role``; None if revoked
        or its user was removed."""
        return self.row(
            "SELECT s.id AS session_id, s.user_id, s.last_seen_ts, u.name, u.role FROM user_sessions s "
            "JOIN users u ON u.id = s.user_id WHERE s.id = ? AND s.revoked_at IS NULL "
            "AND u.disabled_at IS NULL AND s.last_seen_ts > ?", (session_id, seen_after))

    def touch_session(self, session_id: str, now: float) -> None:
        with self.transaction():
            self.conn.execute("UPDATE user_sessions SET last_seen_ts = ? WHERE id = ?", (now, session_id))

    def sessions(self, seen_after: float = 0.0) -> list[dict[str, Any]]:
        """Open sessions seen after ``seen_after``, for the owner (the id is the token's hash:
        revocable, not usable)."""
        return self.rows(
            "SELECT s.id, s.user_id, u.name, u.role, s.created_at, s.last_seen_ts, s.client "
            "FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE s.revoked_at IS NULL "
            "AND u.disabled_at IS NULL AND s.last_seen_ts > ? ORDER BY s.last_seen_ts DESC", (seen_after,))

    def revoke_session(self, session_id: str) -> bool:
        with self.transaction():
            return self._revoke_where("id = ?", (session_id,)) > 0

    def revoke_user_sessions(self, user_id: int) -> int:
        with self.transaction():
            return self._revoke_where("user_id = ?", (user_id,))

    def _revoke_where(self, where: str, params: tuple[Any, ...]) -> int:
        cur = self.conn.execute(
            f"UPDATE user_sessions SET revoked_at = ? WHERE revoked_at IS NULL AND {where}",
            (utcnow(), *params))
        return cur.rowcount

    # -- invites ------------------------------------------------------------------------------
    def add_invite(self, invite_id: str, role: str, created_by: int, expires_ts: float) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO invites (id, role, created_by, created_at, expires_ts) VALUES (?, ?, ?, ?, ?)",
                (invite_id, role, created_by, utcnow(), expires_ts))

    def open_invite(self, invite_id: str, now: float) -> dict[str, Any] | None:
        """The invite if it is unused and not expired."""
        return self.row("SELECT * FROM invites WHERE id = ? AND used_at IS NULL AND expires_ts > ?",
                        (invite_id, now))

    def accept_invite(self, invite_id: str, now: float, name: str, password_hash: str) -> int | None:
        """Use the invite once: the new user's id, or None if it was used, expired or unknown.
        Raises ``sqlite3.IntegrityError`` (nothing used) if the name is taken."""
        with self.transaction():
            invite = self.open_invite(invite_id, now)
            if invite is None:
                return None
            cur = self.conn.execute(
                "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                (name, invite["role"], password_hash, utcnow()))
            user_id = int(cur.lastrowid or 0)
            self.conn.execute("UPDATE invites SET used_at = ?, used_by = ? WHERE id = ?",
                              (utcnow(), user_id, invite_id))
        return user_id

    def invites(self, now: float) -> list[dict[str, Any]]:
        """Invites still open (not used, not expired), newest first."""
        return self.rows("SELECT id, role, created_at, expires_ts FROM invites WHERE used_at IS NULL "
                         "AND expires_ts > ? ORDER BY created_at DESC", (now,))

    def cancel_invite(self, invite_id: str) -> bool:
        with self.transaction():
            cur = self.conn.execute("UPDATE invites SET expires_ts = 0 WHERE id = ? AND used_at IS NULL",
                                    (invite_id,))
        return cur.rowcount > 0

    # -- FTP accounts' users ------------------------------------------------------------------
    def ftp_account_roles(self) -> dict[str, str]:
        """Each FTP account's role for what its uploads may trigger: its user's role (a removed
        user's camera counts as a viewer's; an account of no user belongs to the first owner)."""
        rows = self.rows("SELECT a.user, u.role, u.disabled_at, a.owner_id FROM ftp_accounts a "
                         "LEFT JOIN users u ON u.id = a.owner_id")
        return {r["user"]: "owner" if r["owner_id"] is None else
                ("viewer" if r["disabled_at"] or r["role"] is None else r["role"]) for r in rows}
