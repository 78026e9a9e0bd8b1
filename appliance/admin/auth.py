"""Login with the password from config; every route but /health and /login needs a session.

Failed logins are counted in the store (table ``login_failures``), so the limit holds across all
gunicorn workers: :data:`MAX_FAILURES` wrong passwords per client within :data:`WINDOW_S` seconds,
then 429 until the oldest of them leaves the window.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.security import check_password_hash

from ..store import Store
from . import client_id, get_store

bp = Blueprint("auth", __name__)

MAX_FAILURES = 5
WINDOW_S = 300.0


def logged_in() -> bool:
    return bool(session.get("admin"))


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse anonymous requests: 401 JSON for the API, a redirect to /login for pages."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not logged_in():
            if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
                return jsonify(error="login required"), 401
            return redirect(url_for("auth.login", next=request.path))
        return view(*args, **kwargs)

    return wrapper


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


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error, status, headers = None, 200, {}
    if request.method == "POST":
        store, client = get_store(), client_id()
        wait = retry_after(store, client)
        data = request.get_json(silent=True) if request.is_json else request.form
        password = (data or {}).get("password", "")
        if wait:
            error, status = f"Too many wrong passwords. Try again in {wait} s.", 429
            headers["Retry-After"] = str(wait)
        elif isinstance(password, str) and check_password_hash(
            current_app.config["PASSWORD_HASH"], password
        ):
            store.clear_login_failures(client)
            session.clear()
            session["admin"] = True
            session.permanent = True
            if request.is_json:
                return jsonify(ok=True)
            target = request.args.get("next", "/")
            return redirect(target if _local(target) else "/")
        else:
            record_failure(store, client)
            error, status = "Wrong password", 401
        if request.is_json:
            return jsonify(error=error), status, headers
    return render_template("login.html", error=error), status, headers


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("auth.login"))


def _local(target: str) -> bool:
    """Only same-site paths are followed after login (no open redirect)."""
    return target.startswith("/") and not target.startswith("//") and "\\" not in target
