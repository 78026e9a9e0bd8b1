"""Cameras API: the FTP accounts cameras send frames with, and what each is doing now.

``GET /api/cameras`` lists the accounts (never their password hashes) with their connection,
frames received, partial uploads discarded and last frame, plus what to type into a camera: the
port, the passive range, whether FTPS is offered and the certificate's fingerprint (the camera
shows it on first connection). Accounts are added, changed (label, event, new password, the user
it belongs to) and removed here; passwords are hashed before they reach the store. An account's
user (``owner_id``; none: the first owner) gives its frames that user's role: a viewer's camera
never auto-publishes (:mod:`appliance.publish.autopublish`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from flask import jsonify, send_file
from werkzeug.security import generate_password_hash

from ..ingest.ftp_auth import valid_user
from ..ingest.ftp_tls import certificate_paths, fingerprint, tls_folder
from ..store import Store
from . import get_config, get_store
from .auth import session_blueprint
from .errors import ApiError, body, text, whole

bp = session_blueprint("cameras", __name__, url_prefix="/api")

MIN_PASSWORD = 8


def certificate() -> Path:
    return certificate_paths(tls_folder(get_config()))[0]


def server_json() -> dict[str, Any]:
    ftp = get_config().ftp
    port = int(ftp.bind.rpartition(":")[2])
    cert = certificate()
    return {"port": port, "passive_ports": ftp.passive_ports, "tls": ftp.tls,
            "fingerprint": fingerprint(cert) if ftp.tls else "",
            "plain_networks": ftp.plain_networks}


def cameras_json(store: Store) -> dict[str, Any]:
    users = [{k: u[k] for k in ("id", "name", "role")} for u in store.users() if not u["disabled_at"]]
    return {"server": server_json(), "accounts": store.ftp_accounts_listing(), "users": users}


def _owner_id(store: Store, value: Any) -> int | None:
    if value is None:
        return None  # the first owner
    user_id = whole(value, "owner_id")
    found = store.user(user_id)
    if found is None or found["disabled_at"]:
        raise ApiError(f"no user {user_id}", 404)
    return user_id


def _password(data: dict[str, Any]) -> str:
    password = data.get("password")
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ApiError(f"password must be at least {MIN_PASSWORD} characters")
    if len(password) > 128 or any(ord(c) < 32 for c in password):
        raise ApiError("password must be one line of at most 128 characters")
    return password


def _event_id(store: Store, value: Any) -> int | None:
    if value is None:
        return None  # the current event
    event_id = whole(value, "event_id")
    if store.event(event_id) is None:
        raise ApiError(f"no event {event_id}", 404)
    return event_id


@bp.get("/cameras")
def cameras() -> Any:
    return jsonify(cameras_json(get_store()))


@bp.get("/cameras/certificate.pem")
def download_certificate() -> Any:
    """The FTPS certificate, for cameras that import it as a root certificate (Nikon, Sony)."""
    if not get_config().ftp.tls or not certificate().is_file():
        raise ApiError("no FTPS certificate yet: it is made when the FTP service first starts", 404)
    return send_file(certificate(), mimetype="application/x-pem-file", as_attachment=True,
                     download_name="appliance-ftps.pem")


@bp.post("/cameras")
def add_camera() -> Any:
    """``{"user", "password", "label"?, "event_id"?, "owner_id"?}``: a new account."""
    data = body({"user", "password", "label", "event_id", "owner_id"}, "camera field")
    user = text(data.get("user"), "user", 32, required=True)
    if not valid_user(user):
        raise ApiError("user must be letters, digits, '.', '_' or '-' (at most 32, no leading dot)")
    store = get_store()
    label = text(data.get("label", ""), "label", 80)
    try:
        store.add_ftp_account(user, generate_password_hash(_password(data)), label,
                              _event_id(store, data.get("event_id")), _owner_id(store, data.get("owner_id")))
    except sqlite3.IntegrityError as exc:
        raise ApiError(f"an account {user!r} exists already", 409) from exc
    return jsonify(cameras_json(store)), 201


@bp.put("/cameras/<user>")
def change_camera(user: str) -> Any:
    """``{"password"?, "label"?, "event_id"?, "owner_id"?}``: change an account."""
    data = body({"password", "label", "event_id", "owner_id"}, "camera field")
    store = get_store()
    changes: dict[str, Any] = {}
    if "password" in data:
        changes["password_hash"] = generate_password_hash(_password(data))
    if "label" in data:
        changes["label"] = text(data["label"], "label", 80)
    if "event_id" in data:
        changes["event_id"] = _event_id(store, data["event_id"])
    if "owner_id" in data:
        changes["owner_id"] = _owner_id(store, data["owner_id"])
    if not changes:
        raise ApiError("nothing to change")
    if not store.update_ftp_account(user, **changes):
        raise ApiError(f"no account {user!r}", 404)
    return jsonify(cameras_json(store))


@bp.delete("/cameras/<user>")
def remove_camera(user: str) -> Any:
    """Remove an account: it can no longer log in; its frames stay in the buffer."""
    store = get_store()
    if not store.delete_ftp_account(user):
        raise ApiError(f"no account {user!r}", 404)
    return jsonify(cameras_json(store))
