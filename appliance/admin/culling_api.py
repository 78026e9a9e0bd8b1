"""Culling in the admin's JSON API: ratings and flags, every id of a filter, batch actions with
their progress and undo, draft edits, ratings exported as XMP sidecars.

A batch is one request and one transaction (``appliance.store.batches``); a publish batch's
progress follows its publications through rendering and upload until each is live or failed.
"""

from __future__ import annotations

import json
from typing import Any

from flask import jsonify, request

from ..imaging import xmp_sidecar
from ..imaging.recipe import Recipe, RecipeError
from ..publish.worker import Publisher
from ..store import PublicationState
from ..store.batches import NO_PHOTO, UndoRefused
from . import get_config, get_store, housekeeping
from .auth import session_blueprint
from .buffer_query import parse_query
from .errors import ApiError, body

bp = session_blueprint("culling", __name__, url_prefix="/api")

MAX_IDS = 10_000
ACTIONS = ("publish", "unpublish", "rate", "flag", "edit", "delete")
FLAG_VALUES = ("pick", "reject", "none")


@bp.errorhandler(LookupError)
def _not_found(exc: LookupError) -> Any:
    return jsonify(error=str(exc).strip("'\"")), 404


def photo_ids(value: Any) -> list[int]:
    """A non-empty list of at most :data:`MAX_IDS` photo ids (repeats dropped, order kept)."""
    if not isinstance(value, list) or not value:
        raise ApiError("ids must be a non-empty list of photo ids")
    if len(value) > MAX_IDS:
        raise ApiError(f"at most {MAX_IDS} photos at once (got {len(value)})")
    if any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value):
        raise ApiError("each id must be a photo id (a whole number from 1)")
    return list(dict.fromkeys(value))


def rating(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 5:
        raise ApiError("rating must be a whole number from 0 to 5")
    return value


def flag(value: Any) -> str:
    if value not in FLAG_VALUES:
        raise ApiError(f"flag must be one of {', '.join(FLAG_VALUES)}")
    return str(value)


def recipe(value: Any, name: str = "value") -> dict[str, Any]:
    """A validated edit (exposure, rotation, ...) as the publish pipeline takes it."""
    if not isinstance(value, dict):
        raise ApiError(f"{name} must be an edit object, e.g. {{\"exposure\": 0.5, \"rotate\": 90}}")
    try:
        return Recipe.parse(value).to_dict()
    except RecipeError as exc:
        raise ApiError(str(exc)) from exc


@bp.get("/buffer/ids")
def buffer_ids() -> Any:
    """Every photo id of a filter, newest first (at most :data:`MAX_IDS`): select all."""
    store = get_store()
    query = parse_query(request.args)
    return jsonify(ids=store.query_ids(query, MAX_IDS), total=store.query_count(query))


@bp.post("/rate")
def rate() -> Any:
    data = body({"ids", "rating"})
    ids, stars = photo_ids(data.get("ids")), rating(data.get("rating"))
    store = get_store()
    with store.transaction():
        updated = store.rate_photos(ids, stars)
    return jsonify(ok=True, updated=updated)


@bp.post("/flag")
def set_flag() -> Any:
    """``pick``, ``reject`` or ``none`` (one flag clears the other)."""
    data = body({"ids", "flag"})
    ids, value = photo_ids(data.get("ids")), flag(data.get("flag"))
    store = get_store()
    with store.transaction():
        updated = store.flag_photos(ids, value)
    return jsonify(ok=True, updated=updated)


@bp.get("/photos/<int:photo_id>/draft")
def draft(photo_id: int) -> Any:
    """The photo's draft edit ({} when none): what the editor opens and a publish uses."""
    saved = get_store().draft(photo_id)
    if saved is None:
        raise LookupError(f"no photo {photo_id} in the buffer")
    return jsonify(id=photo_id, recipe=saved)


def batch_ids(data: dict[str, Any]) -> list[int]:
    """The photos of a batch: ``ids``, or every photo of ``query`` (the buffer's filters)."""
    if ("ids" in data) == ("query" in data):
        raise ApiError("give either ids or query")
    if "ids" in data:
        return photo_ids(data["ids"])
    store = get_store()
    query = parse_query(data["query"])
    total = store.query_count(query)
    if total > MAX_IDS:
        raise ApiError(f"this filter holds {total} photos: at most {MAX_IDS} at once")
    if not total:
        raise ApiError("no photo matches this filter")
    return store.query_ids(query, MAX_IDS)


def _unpublish(ids: list[int]) -> tuple[int, list[dict[str, Any]]]:
    """Unpublish each photo's published publication; all in one transaction with the batch."""
    store = get_store()
    latest = store.latest_publications(ids)
    visible = store.visible_ids(ids)
    results, pubs = [], []
    for photo_id in ids:
        pub = latest.get(photo_id)
        if photo_id not in visible:
            results.append({"id": photo_id, "ok": False, "error": NO_PHOTO})
        elif pub is None or pub["state"] not in (PublicationState.PUBLISHED, PublicationState.QUEUED,
                                                  PublicationState.PROCESSING):
            results.append({"id": photo_id, "ok": False, "error": "not published"})
        elif pub["state"] != PublicationState.PUBLISHED:
            results.append({"id": photo_id, "ok": False, "error": "still being published: try again "
                            "in a moment"})
        else:
            results.append({"id": photo_id, "ok": True, "publication_id": pub["id"]})
            pubs.append(store.publication(pub["id"]))
    made: list[int] = []
    Publisher(get_config(), store).unpublish_many(
        pubs, on_commit=lambda: made.append(store.insert_batch("unpublish", None, results)))
    return made[0], results


@bp.post("/batch")
def batch() -> Any:
    """``{action, ids | query, value}``: one transaction; 202 with each photo's outcome."""
    data = body({"action", "ids", "query", "value"})
    action = data.get("action")
    if action not in ACTIONS:
        raise ApiError(f"action must be one of {', '.join(ACTIONS)}")
    value = data.get("value")
    checked: Any = {"rate": rating, "flag": flag, "edit": recipe}.get(action, lambda v: v)(value)
    if action == "publish" and value is not None:
        checked = recipe(value)
    ids = batch_ids(data)
    store = get_store()
    housekeeping.purge_deleted(get_config(), store)
    if action == "publish":
        batch_id, results = Publisher(get_config(), store).request_many(ids, checked)
    elif action == "unpublish":
        batch_id, results = _unpublish(ids)
    elif action == "delete":
        batch_id, results = store.batch_delete(ids)
    else:
        batch_id, results = store.batch_update(action, ids, checked)
    answer = {"batch": batch_id, "action": action, "total": len(results), "results": results}
    if action == "delete":
        answer["undo_seconds"] = housekeeping.UNDO_SECONDS
    return jsonify(answer), 202


def _outcome(item: dict[str, Any], publish: bool) -> tuple[str, str | None]:
    """An item's place in the progress counts, and its error when it failed."""
    if not item["ok"]:
        return "failed", item["error"]
    if not publish:
        return "done", None
    state = item["state"]
    if state == PublicationState.FAILED:
        return "failed", item["publish_error"] or "the publish failed"
    if state == PublicationState.UNPUBLISHED:
        return "failed", "unpublished since"
    if state == PublicationState.PUBLISHED:
        return ("live", None) if item["live_at"] else ("published", None)
    return state, None


@bp.get("/batch/<int:batch_id>")
def batch_progress(batch_id: int) -> Any:
    """Counts for the progress bar; a publish is done when each photo is live or failed."""
    store = get_store()
    found = store.batch(batch_id)
    if found is None:
        raise LookupError(f"no batch {batch_id}")
    publish = found["action"] == "publish"
    counts = dict.fromkeys(("queued", "processing", "published", "live", "failed", "done"), 0)
    failed = []
    for item in store.batch_items(batch_id):
        where, error = _outcome(item, publish)
        counts[where] += 1
        if where == "failed":
            failed.append({"id": item["photo_id"], "name": item["original_name"], "error": error})
    finished = counts["live"] + counts["failed"] + counts["done"]
    return jsonify(batch=batch_id, action=found["action"], total=found["total"],
                   done=finished >= found["total"], counts=counts, failed=failed,
                   undone=bool(found["undone_at"]))


@bp.post("/batch/<int:batch_id>/undo")
def undo(batch_id: int) -> Any:
    """Bring back the photos of a delete batch, within :data:`housekeeping.UNDO_SECONDS`."""
    try:
        restored = get_store().undo_delete(batch_id, housekeeping.UNDO_SECONDS)
    except UndoRefused as exc:
        raise ApiError(str(exc), 409) from exc
    return jsonify(ok=True, restored=restored)


@bp.post("/xmp/export")
def export_xmp() -> Any:
    """Write ratings and picks as XMP sidecars beside the archived originals (never the card).

    On demand rather than on every change: each sidecar is an fsync'd write, which would slow
    culling on an SD card, and the sidecars matter only once the archive leaves the box. A sidecar
    already saying the same is not rewritten; a photo whose stars or flag went back to none gets
    its existing sidecar updated."""
    config = get_config()
    buffer, archive = config.folder("buffer"), config.folder("archive")
    written = photos = 0
    for row in get_store().sidecar_rows():
        flagged = "rejected" if row["rejected"] else "picked" if row["picked"] else None
        originals = [archive / p for p in json.loads(row["raws"] or "[]")]
        if not row["derived_from"]:
            originals.insert(0, buffer / row["buffer_path"])
        wanted = bool(row["rating"] > 0 or flagged)
        targets = [o for o in originals if wanted or xmp_sidecar.sidecar_path(o).exists()]
        if not targets:
            continue
        data = xmp_sidecar.sidecar_xml(row["rating"], flagged, row["original_name"])
        photos += 1
        for original in targets:
            try:
                written += xmp_sidecar.write_sidecar(original, data)
            except OSError as exc:
                raise ApiError(f"could not write the sidecar of {row['original_name']}: "
                               f"{exc.strerror or exc}", 507) from exc
    return jsonify(ok=True, written=written, photos=photos)
