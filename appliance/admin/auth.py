"""Login with the password from config; every route but /health and /login needs a session."""

from __future__ import annotations

import functools
import hmac
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

bp = Blueprint("auth", __name__)


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


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        data = request.get_json(silent=True) if request.is_json else request.form
        password = (data or {}).get("password", "")
        if isinstance(password, str) and check_password_hash(
            current_app.config["PASSWORD_HASH"], password
        ):
            session.clear()
            session["admin"] = True
            session.permanent = True
            if request.is_json:
                return jsonify(ok=True)
            target = request.args.get("next", "/")
            return redirect(target if _local(target) else "/")
        error = "Wrong password"
        if request.is_json:
            return jsonify(error=error), 401
    return render_template("login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("auth.login"))


def _local(target: str) -> bool:
    """Only same-site paths are followed after login (no open redirect)."""
    return target.startswith("/") and not target.startswith("//") and "\\" not in target


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)
