"""Login with a name and password; each login opens a session the store can revoke.

Every route but the open ones (:data:`appliance.admin.roles.OPEN`) needs a session; what a
session's role may do is :mod:`appliance.admin.roles`' table. An empty name logs in the first
owner (made from ``admin.password`` at first boot: :mod:`appliance.admin.owner`), so the one
password of older appliances still works as it did.

Failed logins are counted in the store (table ``login_failures``), so the limit holds across all
gunicorn workers: :data:`MAX_FAILURES` wrong passwords per client within :data:`WINDOW_S` seconds,
then 429 until the oldest of them leaves the window.
"""

from __future__ import annotations

import functools
import math
import secrets
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for

from ..store import Store
from . import client_id, get_store
from .audit_log import record
from .passwords import hash_password, needs_rehash, verify_password
from .roles import current_user, token_id

bp = Blueprint("auth", __name__)

MAX_FAILURES = 5
WINDOW_S = 300.0


def logged_in() -> bool:
    return current_user() is not None


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse anonymous requests: 401 JSON for the API, a redirect to /login for pages (the role
    table enforces this for every endpoint already; kept on views as a second lock)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not logged_in():
            if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
                return jsonify(error="login required"), 401
            return redirect(url_for("auth.login", next=request.path))
        return view(*args, **kwargs)

    return wrapper


def _no_view() -> None:
    """Nothing to do for a signed-in request (``login_required`` answers the others)."""


def session_blueprint(name: str, import_name: str, url_prefix: str) -> Blueprint:
    """A blueprint every route of which needs a session: refused before any of its views runs."""
    blueprint = Blueprint(name, import_name, url_prefix=url_prefix)
    blueprint.before_request(login_required(_no_view))
    return blueprint


def retry_after(store: Store, client: str, now: float | None = None) -> int:
    """Seconds until ``client`` may try again (0: allowed now)."""
    now = time.time() if now is None else now
    times = store.recent_login_failures(client, now - WINDOW_S, MAX_FAILURES)
    if len(times) < MAX_FAILURES:
        return 0
    return max(1, math.ceil(times[-1] + WINDOW_S - now))


def record_failure(store: Store, client: str) -> None:
    now = time.time()
    store.record_login_failure(client, now, forget_before=now - WINDOW_S)


def start_session(store: Store, user: dict[str, Any]) -> None:
    """A new session for ``user`` (a users row): a fresh cookie, its token's hash in the store."""
    token = secrets.token_urlsafe(32)
    store.open_session(token_id(token), user["id"], time.time(), client_id())
    session.clear()
    session["sid"] = token
    session.permanent = True


def check_login(store: Store, name: str, password: str) -> dict[str, Any] | None:
    """The user ``name`` (empty: the first owner) if ``password`` is theirs; upgrades an old hash."""
    user = store.user_named(name) if name else store.first_owner()
    if user is None:
        verify_password(_dummy_hash(), password)  # as slow as a real check: names cannot be probed
        return None
    if not verify_password(user["password_hash"], password):
        return None
    if needs_rehash(user["password_hash"]):
        store.set_user_password(user["id"], hash_password(password), keep_session=None)
    return user


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error, status, headers = None, 200, {}
    if request.method == "POST":
        store, client = get_store(), client_id()
        wait = retry_after(store, client)
        data = (request.get_json(silent=True) if request.is_json else request.form) or {}
        name, password = data.get("name", ""), data.get("password", "")
        user = None
        if wait:
            error, status = f"Too many wrong passwords. Try again in {wait} s.", 429
            headers["Retry-After"] = str(wait)
        elif isinstance(name, str) and isinstance(password, str):
            user = check_login(store, name.strip(), password)
        if user is not None:
            store.clear_login_failures(client)
            start_session(store, user)
            record("login", {"user_id": user["id"], "name": user["name"], "role": user["role"]})
            if request.is_json:
                return jsonify(ok=True, name=user["name"], role=user["role"])
            target = request.args.get("next", "/")
            return redirect(target if _local(target) else "/")
        if not wait:
            record_failure(store, client)
            error, status = "Wrong name or password", 401
        if request.is_json:
            return jsonify(error=error), status, headers
    return render_template("login.html", error=error), status, headers


@bp.post("/logout")
def logout() -> Any:
    user = current_user()
    if user is not None:
        get_store().revoke_session(user["session_id"])
        record("logout", user)
    session.clear()
    return redirect(url_for("auth.login"))


def _local(target: str) -> bool:
    """Only same-site paths are followed after login (no open redirect)."""
    return target.startswith("/") and not target.startswith("//") and "\\" not in target
