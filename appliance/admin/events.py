"""Events API: list, create and switch the current event (where new publications go)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from ..config import SLUG_RE
from ..store import Store, utcnow
from . import get_store
from .auth import session_blueprint
from .errors import ApiError, body, text, whole

bp = session_blueprint("events", __name__, url_prefix="/api")


def events_json(store: Store) -> dict[str, Any]:
    return {"current_id": store.get_setting("current_event_id"), "events": store.events_listing()}


@bp.get("/events")
def events() -> Any:
    return jsonify(events_json(get_store()))


@bp.post("/events")
def create_event() -> Any:
    """``{"slug", "title", "subtitle"?, "switch"?: true}``: create an event (and make it current)."""
    data = body({"slug", "title", "subtitle", "switch"}, "event field")
    slug = text(data.get("slug"), "slug", 63, required=True)
    if not SLUG_RE.match(slug):
        raise ApiError("slug must be lowercase letters, digits and '-' (it becomes part of URLs)")
    title = text(data.get("title"), "title", 120, required=True)
    subtitle = text(data.get("subtitle", ""), "subtitle", 200)
    switch = data.get("switch", True)
    if not isinstance(switch, bool):
        raise ApiError("switch must be true or false")
    store = get_store()
    if store.create_event_if_new(slug, title, subtitle, utcnow(), make_current=switch) is None:
        raise ApiError(f"an event {slug!r} exists already", 409)
    return jsonify(events_json(store)), 201


@bp.post("/events/current")
def switch_event() -> Any:
    """``{"id"}``: make an existing event the one new publications go to."""
    event_id = whole(body().get("id"), "id")
    store = get_store()
    if store.event(event_id) is None:
        raise ApiError(f"no event {event_id}", 404)
    store.set_setting("current_event_id", event_id)
    return jsonify(events_json(store))
