"""Watermark settings API for the phone: the mark's kind, a draft preview on a real photo, the PNG.

The settings, their validation and the drawing belong to :mod:`appliance.imaging.watermark` (the publisher
reads them for every photo). Here the admin adds a ``kind`` view of them (none, text, image), bumps
the integer setting ``watermark_version`` on every change (the editor's preview URLs carry it), and
previews unsaved drafts. The PNG is uploaded with ``PUT /api/settings/watermark.png``
(:mod:`appliance.admin.publish_api`).
"""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request, send_file

from ..imaging import pipeline, watermark
from ..imaging.recipe import Recipe
from ..publish import watermark_settings
from ..store import Store
from . import get_config, get_store
from .auth import session_blueprint
from .errors import ApiError, body
from .preview import PREVIEW_EDGE, cached, jpeg_response
from .queries import hero

bp = session_blueprint("watermark", __name__, url_prefix="/api/settings/watermark")

KINDS = ("none", "text", "image")
VERSION = "watermark_version"


def bump_version(store: Store) -> int:
    """Count a watermark change (every writer of the ``watermark`` setting calls this)."""
    version = int(store.get_setting(VERSION, 0)) + 1
    store.set_setting(VERSION, version)
    return version


def kind_of(settings: dict[str, Any]) -> str:
    if not settings["enabled"]:
        return "none"
    return "image" if settings["png"] else "text"


def watermark_json(store: Store) -> dict[str, Any]:
    settings = watermark_settings.load_settings(store).to_dict()
    return {"watermark": {**settings, "kind": kind_of(settings)}, "version": store.get_setting(VERSION, 0),
            "positions": watermark.POSITIONS, "kinds": KINDS, "limits": watermark.WatermarkSettings.LIMITS}


def with_kind(changes: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Turn ``kind`` (none | text | image) into the pipeline's ``enabled`` and ``png``."""
    changes = dict(changes)
    kind = changes.pop("kind", None)
    if kind is None:
        return changes
    if kind not in KINDS:
        raise watermark.WatermarkError(f"kind must be one of {', '.join(KINDS)}")
    if kind == "none":
        changes["enabled"] = False
    elif kind == "text":
        changes.update(enabled=True, png=None)
    else:
        if not changes.get("png", current.get("png")):
            raise watermark.WatermarkError("an image watermark needs an uploaded PNG")
        changes["enabled"] = True
    return changes


@bp.get("")
def get_watermark() -> Any:
    return jsonify(watermark_json(get_store()))


@bp.put("")
def put_watermark() -> Any:
    """A partial change: ``kind``, ``text``, ``png``, ``position``, ``opacity``, ``size``, ``margin``."""
    store = get_store()
    try:
        current = watermark_settings.load_settings(store).to_dict()
        watermark_settings.save_settings(store, get_config().folder("state"), with_kind(body(), current))
    except watermark.WatermarkError as exc:
        raise ApiError(str(exc)) from exc
    bump_version(store)
    return jsonify(watermark_json(store))


@bp.get("/image")
def watermark_image() -> Any:
    """The uploaded PNG of the current settings (addressed by the store, not by the client)."""
    sha = watermark_settings.load_settings(get_store()).png
    path = watermark.png_path(get_config().folder("state"), sha) if sha else None
    if path is None or not path.is_file():
        abort(404, "no watermark image uploaded")
    return send_file(path, mimetype="image/png", max_age=0)


DRAFT_TEXT = ("kind", "text", "png", "position")
DRAFT_NUMBERS = ("opacity", "size", "margin")


@bp.get("/preview")
def watermark_preview() -> Any:
    """A buffer photo with draft settings from the query (unsaved) over the saved ones; ``photo=ID``."""
    args = request.args
    unknown = set(args) - {*DRAFT_TEXT, *DRAFT_NUMBERS, "photo", "v"}
    if unknown:
        raise ApiError(f"unknown preview parameter {sorted(unknown)[0]!r}")
    draft: dict[str, Any] = {key: args[key] for key in DRAFT_TEXT if key in args}
    for key in DRAFT_NUMBERS:
        if key in args:
            try:
                draft[key] = float(args[key])
            except ValueError as exc:
                raise ApiError(f"{key} must be a number") from exc
    store = get_store()
    state = get_config().folder("state")
    try:
        current = watermark_settings.load_settings(store).to_dict()
        settings = watermark.WatermarkSettings.parse({**current, **with_kind(draft, current)})
        if settings.png and not watermark.png_path(state, settings.png).is_file():
            raise watermark.WatermarkError("png does not name an uploaded watermark")
    except watermark.WatermarkError as exc:
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
    mark = watermark.Watermark(settings, state) if settings.enabled else None
    source = get_config().folder("buffer") / photo["buffer_path"]

    def render() -> bytes:
        image = pipeline.render(source, Recipe(), PREVIEW_EDGE, watermark=mark)
        return pipeline.thumb_jpeg_bytes(image, quality=80)

    key = ("watermark", photo["id"], photo["sha256"], settings.digest if mark else None)
    return jpeg_response(cached(key, render))


def _sample_photo(store: Store) -> dict[str, Any] | None:
    """The event's cover photo, else the most recently published, else the newest photo."""
    event = store.current_event()
    cover = hero(store, event["id"]) if event else None
    if cover:
        pub = store.publication(cover["publication_id"])
        return store.photo(pub["photo_id"]) if pub else None
    photo_id = store.latest_published_photo_id()
    return store.photo(photo_id) if photo_id is not None else store.latest_photo()
