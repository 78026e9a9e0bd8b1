"""The gallery password API: whether the event's gallery is private, setting and removing it.

Only the password's PBKDF2 record is stored and published (:mod:`appliance.publish.gallery_access`);
the admin never shows a password back. Login and CSRF as every state change.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify

from ..publish import gallery_access
from ..store import Store, utcnow
from . import get_config, get_store
from .auth import session_blueprint
from .errors import ApiError, body, current_event

bp = session_blueprint("gallery_access", __name__, url_prefix="/api/settings")


def _state(store: Store, event: dict[str, Any]) -> dict[str, Any]:
    record = gallery_access.current(store, event["id"])
    return {"protected": record is not None, "set_at": record.get("set_at") if record else None,
            "min_length": gallery_access.MIN_LENGTH}


@bp.get("/gallery-password")
def get_password() -> Any:
    store = get_store()
    return jsonify(_state(store, current_event(store)))


@bp.put("/gallery-password")
def put_password() -> Any:
    data = body({"password"}, "field")
    password = data.get("password")
    if not isinstance(password, str):
        raise ApiError("password must be text")
    try:
        record = gallery_access.make_record(password)
    except gallery_access.PasswordError as exc:
        raise ApiError(str(exc)) from exc
    store = get_store()
    event = current_event(store)
    record["set_at"] = utcnow()
    gallery_access.publish(store, get_config(), event, record)
    return jsonify(_state(store, event))


@bp.delete("/gallery-password")
def delete_password() -> Any:
    store = get_store()
    event = current_event(store)
    gallery_access.publish(store, get_config(), event, None)
    return jsonify(_state(store, event))
