"""Watermark settings API: text or PNG mark, position, opacity, size, and a preview on a real photo.

The settings themselves and their validation live in :mod:`appliance.admin.watermark`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, jsonify, request, send_file

from ..pipeline import Recipe
from ..store import Store
from . import get_config, get_store
from . import watermark as wm
from .auth import login_required
from .errors import ApiError, body
from .preview import jpeg_response, render_jpeg
from .queries import hero

bp = Blueprint("watermark", __name__, url_prefix="/api/settings/watermark")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every route here needs a session."""


def _state() -> Path:
    return get_config().folder("state")


def watermark_json(store: Store) -> dict[str, Any]:
    return {"watermark": wm.load(store), "version": store.get_setting("watermark_version", 0),
            "positions": wm.POSITIONS, "kinds": wm.KINDS}


@bp.get("")
def get_watermark() -> Any:
    return jsonify(watermark_json(get_store()))


@bp.put("")
def put_watermark() -> Any:
    store = get_store()
    try:
        settings = wm.validate(body(), wm.load(store), _state())
    except wm.WatermarkError as exc:
        raise ApiError(str(exc)) from exc
    version = wm.save(store, settings)
    return jsonify(watermark=settings, version=version, positions=wm.POSITIONS, kinds=wm.KINDS)


@bp.post("/image")
def upload_watermark() -> Any:
    """Upload a PNG mark (multipart field ``image``); it becomes the current image watermark."""
    upload = request.files.get("image")
    if upload is None:
        raise ApiError("send the PNG as multipart form field 'image'")
    store = get_store()
    try:
        sha = wm.store_png(upload.read(wm.MAX_PNG_BYTES + 1), _state())
        settings = wm.validate({"kind": "image", "image_sha": sha}, wm.load(store), _state())
    except wm.WatermarkError as exc:
        raise ApiError(str(exc)) from exc
    version = wm.save(store, settings)
    return jsonify(watermark=settings, version=version, positions=wm.POSITIONS, kinds=wm.KINDS), 201


@bp.get("/image")
def watermark_image() -> Any:
    settings = wm.load(get_store())
    if not settings["image_sha"]:
        abort(404, "no watermark image uploaded")
    path = wm.image_path(_state(), settings["image_sha"])
    if not path.is_file():
        abort(404, "watermark image missing")
    return send_file(path, mimetype="image/png", max_age=0)


@bp.get("/preview")
def watermark_preview() -> Any:
    """A photo with a draft (query string) or the saved watermark; ``?photo=ID`` picks the photo."""
    store = get_store()
    args = request.args
    draft: dict[str, Any] = {}
    for key in ("kind", "text", "position", "image_sha"):
        if key in args:
            draft[key] = args[key]
    for key in ("opacity", "size"):
        if key in args:
            try:
                draft[key] = float(args[key])
            except ValueError as exc:
                raise ApiError(f"{key} must be a number") from exc
    unknown = set(args) - {"kind", "text", "position", "image_sha", "opacity", "size", "photo", "v"}
    if unknown:
        raise ApiError(f"unknown preview parameter {sorted(unknown)[0]!r}")
    try:
        settings = wm.validate(draft, wm.load(store), _state())
    except wm.WatermarkError as exc:
        raise ApiError(str(exc)) from exc
    photo = None
    if "photo" in args:
        try:
            photo = store.photo(int(args["photo"]))
        except ValueError as exc:
            raise ApiError("photo must be a whole number") from exc
    photo = photo or _sample_photo(store)
    if photo is None:
        raise ApiError("the buffer is empty: import a photo to preview the watermark", 404)
    return jpeg_response(render_jpeg(photo, Recipe(), settings if settings["kind"] != "none" else None))


def _sample_photo(store: Store) -> dict[str, Any] | None:
    """The event's cover photo, else the most recently published, else the newest photo."""
    event = store.current_event()
    cover = hero(store, event["id"]) if event else None
    if cover:
        pub = store.publication(cover["publication_id"])
        return store.photo(pub["photo_id"]) if pub else None
    row = store.row(
        "SELECT photo_id FROM publications WHERE state = 'published' ORDER BY id DESC LIMIT 1"
    )
    return store.photo(row["photo_id"]) if row else store.latest_photo()
