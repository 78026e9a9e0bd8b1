"""JSON API of the admin: status, buffer, reject/restore, publish, live feed, unpublish, retry."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from ..imaging.recipe import RecipeError
from ..publish.worker import Publisher
from ..store import PublicationState, utcnow
from ..store.culling import BufferQuery
from . import get_config, get_store
from .auth import session_blueprint
from .buffer_query import parse_query, sources_json
from .errors import ApiError, body, int_arg, whole
from .housekeeping import purge_deleted
from .queries import (
    CursorError,
    buffer_counts,
    buffer_page,
    live_feed,
    photo_json,
    status_snapshot,
)

bp = session_blueprint("api", __name__, url_prefix="/api")


@bp.errorhandler(LookupError)
def _not_found(exc: LookupError) -> Any:
    return jsonify(error=str(exc).strip("'\"")), 404


@bp.get("/status")
def status() -> Any:
    """The status bar (polled every few seconds; also purges photos whose undo window is over)."""
    purge_deleted(get_config(), get_store())
    return jsonify(status_snapshot(get_config(), get_store()))


@bp.get("/buffer")
def buffer() -> Any:
    """A page of the buffer under the filters and sort of :mod:`.buffer_query`, its total, the
    counts of the old filters and the sources to filter by."""
    store = get_store()
    query = parse_query(request.args)
    limit = int_arg("limit", 60, 1, 500)
    try:
        rows, next_cursor = buffer_page(
            store, query, limit, request.args.get("cursor") or None,
            int_arg("offset", 0, 0, 10**7),
        )
    except CursorError as exc:
        raise ApiError(str(exc)) from exc
    counts = buffer_counts(store)
    total = counts[query.filter_] if query == BufferQuery(filter_=query.filter_) else store.query_count(query)
    return jsonify(total=total, counts=counts, next=next_cursor, photos=[photo_json(r) for r in rows],
                   sources=sources_json(store))


def _photo_id(data: dict[str, Any]) -> int:
    photo_id = whole(data.get("id"), "id")
    if get_store().photo(photo_id) is None:
        raise LookupError(f"no photo {photo_id} in the buffer")
    return photo_id


@bp.post("/publish")
def publish() -> Any:
    data = body()
    photo_id = whole(data.get("id"), "id")
    recipe = data.get("recipe")  # none: the photo's draft edit, if it has one
    if recipe is not None and not isinstance(recipe, dict):
        raise ApiError("recipe must be an object")
    store = get_store()
    try:
        pub_id = Publisher(get_config(), store).request(photo_id, recipe)
    except RecipeError as exc:
        raise ApiError(str(exc)) from exc
    store.unreject_photo(photo_id)
    pub = store.publication(pub_id)
    assert pub is not None
    return jsonify(id=pub_id, name=pub["name"], state=pub["state"]), 202


@bp.post("/reject")
def reject() -> Any:
    """Reject (skip) a photo: it leaves the "new" filter; nothing is deleted."""
    photo_id = _photo_id(body())
    get_store().reject_photo(photo_id, utcnow())
    return jsonify(ok=True, id=photo_id, rejected=True)


@bp.post("/restore")
def restore() -> Any:
    """Undo a rejection."""
    photo_id = _photo_id(body())
    get_store().unreject_photo(photo_id)
    return jsonify(ok=True, id=photo_id, rejected=False)


@bp.get("/live")
def live() -> Any:
    store = get_store()
    event = store.current_event()
    if event is None:
        return jsonify(event=None, photos=[])
    photos = live_feed(store, event["id"], int_arg("limit", 200, 1, 1000), int_arg("offset", 0, 0, 10**7))
    counts = store.publication_counts(event["id"])
    return jsonify(event=event["slug"], title=event["title"], counts=counts, photos=photos)


@bp.post("/unpublish")
def unpublish() -> Any:
    data = body()
    try:
        Publisher(get_config(), get_store()).unpublish(whole(data.get("id"), "id"))
    except ValueError as exc:
        raise ApiError(str(exc), 409) from exc
    return jsonify(ok=True)


@bp.post("/retry")
def retry() -> Any:
    """Queue a failed publication again (after the cause was fixed, or a transient error)."""
    pub_id = whole(body().get("id"), "id")
    store = get_store()
    if store.publication(pub_id) is None:
        raise LookupError(f"no publication {pub_id}")
    if not store.retry_failed_publication(pub_id):
        raise ApiError(f"publication {pub_id} has not failed", 409)
    return jsonify(ok=True, id=pub_id, state=PublicationState.QUEUED)
