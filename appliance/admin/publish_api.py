"""Admin JSON API for publishing: the edit preview and the run-time publish settings.

The preview runs the one image pipeline (same recipe validation, same watermark) at a small size;
watermark and credits are saved in the store and picked up by the publisher on its next photo.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from .. import credits, publisher, watermark
from ..pipeline import ImageError, RecipeError
from . import get_store
from .auth import login_required

bp = Blueprint("publish_api", __name__, url_prefix="/api")

PREVIEW_SIZES = (320, 2048)


class BadRequest(Exception):
    pass


@bp.errorhandler(BadRequest)
@bp.errorhandler(RecipeError)
@bp.errorhandler(watermark.WatermarkError)
@bp.errorhandler(credits.CreditsError)
def _bad_request(exc: Exception) -> Any:
    return jsonify(error=str(exc)), 400


@bp.errorhandler(LookupError)
def _not_found(exc: LookupError) -> Any:
    return jsonify(error=str(exc).strip("'\"")), 404


@bp.errorhandler(ImageError)
def _unprocessable(exc: ImageError) -> Any:
    return jsonify(error=str(exc)), 422


def _number(name: str, kind: type) -> Any:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return kind(raw)
    except ValueError as exc:
        raise BadRequest(f"{name} must be a number") from exc


@bp.get("/preview/<int:photo_id>")
@login_required
def preview(photo_id: int) -> Any:
    """``?exposure=&rotate=&straighten=&scale=&size=``: the photo as it would be published."""
    recipe = {key: value for key, kind in (("exposure", float), ("rotate", int),
                                           ("straighten", float), ("scale", float))
              if (value := _number(key, kind)) is not None}
    size = _number("size", int) or publisher.PREVIEW_EDGE
    if not PREVIEW_SIZES[0] <= size <= PREVIEW_SIZES[1]:
        raise BadRequest(f"size must be between {PREVIEW_SIZES[0]} and {PREVIEW_SIZES[1]}")
    data = publisher.preview(current_app.config["APPLIANCE"], get_store(), photo_id, recipe, size)
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "no-store"})


def _settings() -> dict[str, Any]:
    store = get_store()
    return {"watermark": watermark.load_settings(store).to_dict(),
            "credits": credits.load(store).to_dict()}


@bp.get("/settings/publish")
@login_required
def get_settings() -> Any:
    return jsonify(_settings())


@bp.put("/settings/publish")
@login_required
def put_settings() -> Any:
    """``{"watermark": {...}, "credits": {...}}``: partial changes, validated before saving."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or set(data) - {"watermark", "credits"}:
        raise BadRequest('expected {"watermark": {...}, "credits": {...}}')
    store = get_store()
    state = current_app.config["APPLIANCE"].folder("state")
    for key in ("watermark", "credits"):
        if key in data and not isinstance(data[key], dict):
            raise BadRequest(f"{key} must be an object")
    # Validate both before saving either.
    if "watermark" in data:
        merged = {**watermark.load_settings(store).to_dict(), **data["watermark"]}
        watermark.WatermarkSettings.parse(merged)
    if "credits" in data:
        credits.Credits.parse({**credits.load(store).to_dict(), **data["credits"]})
    if "watermark" in data:
        watermark.save_settings(store, state, data["watermark"])
    if "credits" in data:
        credits.save(store, data["credits"])
    return jsonify(_settings())


@bp.put("/settings/watermark.png")
@login_required
def put_watermark_png() -> Any:
    """The PNG as the request body (``Content-Type: image/png``) or a form field ``png``."""
    upload = request.files.get("png")
    body = upload.read() if upload is not None else request.get_data(cache=False)
    if not body:
        raise BadRequest("send the PNG as the body or as the form field 'png'")
    watermark.save_settings(get_store(), current_app.config["APPLIANCE"].folder("state"), {}, png=body)
    return jsonify(_settings())
