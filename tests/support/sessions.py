"""Logged-in admin sessions: Flask's test client, or requests over HTTP to a running admin.

The login form and every page carry the session's CSRF token in ``<meta name="csrf-token">``;
logging in renews the session, so the token to send afterwards is read from a page again.
"""

from __future__ import annotations

import re

import requests

PASSWORD = "correct horse"  # support.config's admin password
_CSRF_TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_token(page: str) -> str:
    """The CSRF token in an admin page's HTML."""
    found = _CSRF_TOKEN.search(page)
    assert found, "no csrf-token in the page"
    return found.group(1)


def login(client, password: str = PASSWORD, name: str = "") -> str:  # noqa: ANN001
    """Log a Flask test client in through the form (no name: the owner); returns the new session's
    CSRF token."""
    token = csrf_token(client.get("/login").get_data(as_text=True))
    res = client.post("/login", data={"name": name, "password": password, "csrf_token": token})
    assert res.status_code == 302, res.get_data(as_text=True)
    return csrf_token(client.get("/").get_data(as_text=True))


def http_login(base: str, password: str = PASSWORD) -> tuple[int, requests.Session]:
    """Log in to the admin at ``base`` through the form like a browser; the answer's status code
    (302 when the password was right) and the session."""
    session = requests.Session()
    token = csrf_token(session.get(f"{base}/login", timeout=5).text)
    answer = session.post(f"{base}/login", data={"password": password, "csrf_token": token},
                          timeout=10, allow_redirects=False)
    return answer.status_code, session
