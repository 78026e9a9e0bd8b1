"""Admin JSON API for the run-time publish settings: watermark and credits, the watermark PNG.

Watermark and credits are saved in the store and picked up by the publisher on its next photo.
The edit preview (``GET /api/preview/<id>``) lives in :mod:`appliance.admin.preview`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from ..imaging import watermark
from ..imaging.pipeline import ImageError
from ..imaging.recipe import RecipeError
from ..publish import credits, watermark_settings
from . import get_store
from .auth import login_required
from .watermark_api import bump_version

bp = Blueprint("publish_api", __name__, url_prefix="/api")


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


def _settings() -> dict[str, Any]:
    store = get_store()
    return {"watermark": watermark_settings.load_settings(store).to_dict(),
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
        merged = {**watermark_settings.load_settings(store).to_dict(), **data["watermark"]}
        watermark.WatermarkSettings.parse(merged)
    if "credits" in data:
        credits.Credits.parse({**credits.load(store).to_dict(), **data["credits"]})
    if "watermark" in data:
        watermark_settings.save_settings(store, state, data["watermark"])
        bump_version(store)
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
    store = get_store()
    watermark_settings.save_settings(store, current_app.config["APPLIANCE"].folder("state"), {}, png=body)
    bump_version(store)
    return jsonify(_settings())
