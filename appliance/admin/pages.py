"""HTML pages of the admin and the buffer thumbnails."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, send_file

from . import get_store
from .auth import login_required

bp = Blueprint("pages", __name__)


@bp.get("/health")
def health() -> Any:
    store = get_store()
    return jsonify(ok=True, schema=store.schema_version)


@bp.get("/")
@login_required
def index() -> Any:
    config = current_app.config["APPLIANCE"]
    return render_template("index.html", gallery_url=config.admin.gallery_url)


@bp.get("/thumbs/<int:photo_id>")
@login_required
def thumb(photo_id: int) -> Any:
    """A buffer thumbnail by photo id; the path comes from the store, never from the client."""
    photo = get_store().photo(photo_id)
    if photo is None or not photo["thumb_path"]:
        abort(404)
    path = current_app.config["APPLIANCE"].folder("state") / "thumbs" / photo["thumb_path"]
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=86400)
