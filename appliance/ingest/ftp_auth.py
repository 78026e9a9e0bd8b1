"""Who may log in over FTP: accounts from the store, each confined to its own inbox.

Passwords are stored hashed (werkzeug). Failed logins are counted per client address in the
store (as the admin's are) and refused for five minutes after ``ftp.max_login_failures``; pyftpdlib
also waits three seconds before answering a wrong password and drops the connection after three.
pyftpdlib resolves every path a client gives (``..``, absolute paths, symlinks) and refuses one
outside the account's home; :meth:`StoreAuthorizer.has_perm` checks the real path again.
"""

from __future__ import annotations

import math
import os
import re
import time
from pathlib import Path
from typing import Any

from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
from werkzeug.security import check_password_hash

from ..store import Store

PERMS = "elmw"  # change folder, list, make folders, store: nothing read, deleted or renamed
USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
WINDOW_S = 300.0


def valid_user(user: str) -> bool:
    """An account name that is also a safe folder name."""
    return USER_NAME.fullmatch(user) is not None


class StoreAuthorizer(DummyAuthorizer):
    """Accounts from the store, each confined to ``inboxes/<user>``."""

    def __init__(self, inboxes: Path, max_failures: int = 5) -> None:
        super().__init__()
        self.inboxes = inboxes
        self.max_failures = max_failures
        self.store: Store | None = None  # opened in the server's thread (see FtpIngest.serve)

    def _account(self, user: str) -> dict[str, Any] | None:
        assert self.store is not None
        return self.store.ftp_account(user) if valid_user(user) else None

    def retry_after(self, client: str, now: float) -> int:
        """Seconds until ``client`` may try a password again (0: now)."""
        assert self.store is not None
        times = self.store.recent_login_failures(f"ftp {client}", now - WINDOW_S, self.max_failures)
        if len(times) < self.max_failures:
            return 0
        return max(1, math.ceil(times[-1] + WINDOW_S - now))

    def validate_authentication(self, username: str, password: str, handler: Any) -> None:
        assert self.store is not None
        client, now = str(getattr(handler, "remote_ip", "") or "?"), time.time()
        wait = self.retry_after(client, now)
        if wait:
            raise AuthenticationFailed(f"too many failed logins from {client}: try again in {wait} s.")
        account = self._account(username)
        if account is None or not check_password_hash(account["password_hash"], password):
            self.store.record_login_failure(f"ftp {client}", now, forget_before=now - WINDOW_S)
            raise AuthenticationFailed("Authentication failed.")
        self.store.clear_login_failures(f"ftp {client}")

    def has_user(self, username: str) -> bool:
        return self._account(username) is not None

    def get_home_dir(self, username: str) -> str:
        home = self.inboxes / username
        home.mkdir(parents=True, exist_ok=True)
        return str(home)

    def get_perms(self, username: str) -> str:
        return PERMS

    def has_perm(self, username: str, perm: str, path: str | None = None) -> bool:
        if perm not in PERMS:
            return False
        if path is None:
            return True
        home = os.path.realpath(self.inboxes / username)  # (no mkdir: runs for every command)
        return os.path.commonpath([home, os.path.realpath(path)]) == home

    def get_msg_login(self, username: str) -> str:
        return "Welcome: frames are imported as soon as each upload completes."

    def get_msg_quit(self, username: str) -> str:
        return "Goodbye."
