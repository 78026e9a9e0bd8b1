"""Who may do what: one permission table keyed by Flask endpoint, enforced for every request.

Default deny: an endpoint missing from :data:`PERMISSIONS` is the owner's alone, so a new route
is safe until someone decides otherwise. :data:`OPEN` endpoints need no session (the login, the
invite page, /health, static files, /metrics with its own bearer-token check). The check runs
before any view (``app.before_request``); a view never checks a role itself.

- viewer: browse the buffer and the live feed, change their own password
- editor: also cull, rate, flag, edit, publish, unpublish and upload on the current event
- owner: everything (settings with the bucket, cameras, events, cleanup, accounts, the audit log)
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from flask import Flask, abort, g, jsonify, redirect, request, session, url_for

from ..store import role_rank
from . import get_store

OPEN = frozenset({"auth.login", "auth.logout", "pages.health", "static", "metrics.metrics",
                  "accounts.invite"})

_VIEWER = ("api.buffer", "api.live", "api.status", "culling.buffer_ids", "culling.batch_progress",
           "culling.draft", "pages.index", "pages.thumb", "pages.published_thumb", "pages.qr_page",
           "pages.qr_svg", "preview.preview", "sync_history.sync_history", "upload.ingest",
           "autopublish.waiting", "events.events", "accounts.me", "accounts.account",
           "accounts.change_password")
_EDITOR = ("api.publish", "api.reject", "api.restore", "api.unpublish", "api.retry", "culling.rate",
           "culling.set_flag", "culling.batch", "culling.undo", "culling.export_xmp", "upload.upload")

PERMISSIONS: dict[str, str] = {**dict.fromkeys(_VIEWER, "viewer"), **dict.fromkeys(_EDITOR, "editor")}

# Finer than an endpoint: the ``action`` of a JSON body that needs more than its endpoint does.
ACTION_PERMISSIONS: dict[tuple[str, str], str] = {
    ("culling.batch", "delete"): "owner",  # deleting originals from the buffer is the owner's
}

TOUCH_EVERY_S = 60.0  # a session's "last seen" is written at most this often
IDLE_S = 7 * 24 * 3600.0  # a session unused this long is over (as its cookie: PERMANENT_SESSION_LIFETIME)


def required_role(endpoint: str, action: str | None = None) -> str | None:
    """The least role ``endpoint`` (with a body's ``action``) needs; None for an open endpoint;
    owner if it is not listed."""
    if endpoint in OPEN:
        return None
    needed = PERMISSIONS.get(endpoint, "owner")
    finer = ACTION_PERMISSIONS.get((endpoint, action or ""))
    return finer if finer and role_rank(finer) > role_rank(needed) else needed


def may(role: str | None, endpoint: str, action: str | None = None) -> bool:
    needed = required_role(endpoint, action)
    return needed is None or role_rank(role) >= role_rank(needed)


def _action() -> str | None:
    data = request.get_json(silent=True) if request.is_json else None
    action = data.get("action") if isinstance(data, dict) else None
    return action if isinstance(action, str) else None


def token_id(token: str) -> str:
    """What the store keeps of a session or invite token: its sha256 (a stolen database opens nothing)."""
    return hashlib.sha256(token.encode()).hexdigest()


def current_user() -> dict[str, Any] | None:
    """The logged-in user of this request (``user_id``, ``name``, ``role``, ``session_id``), or None."""
    if "user" not in g:
        token, user = session.get("sid"), None
        if isinstance(token, str):
            store, now = get_store(), time.time()
            user = store.live_session(token_id(token), seen_after=now - IDLE_S)
            if user is not None and now - user["last_seen_ts"] > TOUCH_EVERY_S:
                store.touch_session(user["session_id"], now)
        g.user = user
    return g.user


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def enforce() -> Any:
    """Before every view: a session for anything not open, then the role the endpoint needs."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # 404 or 405 follows
    needed = required_role(endpoint, _action() if request.method not in ("GET", "HEAD") else None)
    if needed is None:
        return None
    user = current_user()
    if user is None:
        if _wants_json():
            return jsonify(error="login required"), 401
        return redirect(url_for("auth.login", next=request.path))
    if role_rank(user["role"]) < role_rank(needed):
        message = f"{user['name']} is a {user['role']}: this needs the {needed} role"
        if _wants_json():
            return jsonify(error=message), 403
        abort(403, message)
    return None


def register(app: Flask) -> None:
    """Enforce the table on every request and give templates ``user`` and ``may``."""
    app.before_request(enforce)

    @app.context_processor
    def _user() -> dict[str, Any]:
        user = current_user() if request.endpoint else None
        return {"user": user, "may": lambda endpoint: may(user["role"] if user else None, endpoint)}
