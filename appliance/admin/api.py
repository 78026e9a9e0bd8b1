"""JSON API of the admin: buffer, publish, live feed, unpublish, status."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from ..pipeline import RecipeError
from ..publisher import Publisher
from . import get_store
from .auth import login_required

bp = Blueprint("api", __name__, url_prefix="/api")


class BadRequest(Exception):
    pass


@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> Any:
    return jsonify(error=str(exc)), 400


@bp.errorhandler(LookupError)
def _not_found(exc: LookupError) -> Any:
    return jsonify(error=str(exc).strip("'\"")), 404


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, str(default))
    try:
        value = int(raw)
    except ValueError as exc:
        raise BadRequest(f"{name} must be a whole number") from exc
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}")
    return value


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("expected a JSON object body")
    return data


def _id(data: dict[str, Any]) -> int:
    value = data.get("id")
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest("id must be a whole number")
    return value


@bp.get("/status")
@login_required
def status() -> Any:
    return jsonify(get_store().status())


@bp.get("/buffer")
@login_required
def buffer() -> Any:
    store = get_store()
    filter_ = request.args.get("filter", "all")
    if filter_ not in ("all", "new", "published"):
        raise BadRequest("filter must be all, new or published")
    rows = store.buffer_page(
        limit=_int_arg("limit", 60, 1, 500), offset=_int_arg("offset", 0, 0, 10**7), filter_=filter_
    )
    return jsonify(
        total=store.scalar("SELECT COUNT(*) FROM photos"),
        photos=[
            {
                "id": r["id"],
                "name": r["original_name"],
                "capture_time": r["capture_time"],
                "camera": " ".join(x for x in (r["camera_make"], r["camera_model"]) if x) or None,
                "width": r["width"],
                "height": r["height"],
                "thumb": f"/thumbs/{r['id']}",
                "state": r["publication_state"],
            }
            for r in rows
        ],
    )


@bp.post("/publish")
@login_required
def publish() -> Any:
    data = _body()
    photo_id = _id(data)
    recipe = data.get("recipe") or {}
    if not isinstance(recipe, dict):
        raise BadRequest("recipe must be an object")
    store = get_store()
    try:
        pub_id = Publisher(current_app.config["APPLIANCE"], store).request(photo_id, recipe)
    except RecipeError as exc:
        raise BadRequest(str(exc)) from exc
    pub = store.publication(pub_id)
    assert pub is not None
    return jsonify(id=pub_id, name=pub["name"], state=pub["state"]), 202


@bp.get("/live")
@login_required
def live() -> Any:
    store = get_store()
    event = store.current_event()
    if event is None:
        return jsonify(event=None, photos=[])
    rows = store.rows(
        """SELECT p.*,
             (SELECT COUNT(*) FROM jobs j WHERE j.publication_id = p.id AND j.kind = 'upload'
                AND j.state = 'pending') AS pending,
             (SELECT j.last_error FROM jobs j WHERE j.publication_id = p.id AND j.kind = 'upload'
                AND j.state = 'pending' ORDER BY j.id DESC LIMIT 1) AS sync_error
           FROM publications p WHERE p.event_id = ? AND p.state IN
             ('queued', 'processing', 'published', 'failed')
           ORDER BY p.id DESC LIMIT 500""",
        (event["id"],),
    )
    return jsonify(
        event=event["slug"],
        photos=[
            {
                "id": r["id"],
                "photo_id": r["photo_id"],
                "name": r["name"],
                "state": r["state"],
                "sync": _sync_state(r),
                "error": r["error"] or r["sync_error"],
                "recipe": json.loads(r["recipe"]),
                "published_at": r["published_at"],
                "thumb": f"/thumbs/{r['photo_id']}",
            }
            for r in rows
        ],
    )


def _sync_state(row: dict[str, Any]) -> str:
    if row["state"] == "failed":
        return "failed"
    if row["state"] != "published":
        return "publishing"
    if row["live_at"]:
        return "live"
    return "retrying" if row["sync_error"] else "queued"


@bp.post("/unpublish")
@login_required
def unpublish() -> Any:
    data = _body()
    try:
        Publisher(current_app.config["APPLIANCE"], get_store()).unpublish(_id(data))
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    return jsonify(ok=True)
