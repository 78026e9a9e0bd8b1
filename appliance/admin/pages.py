"""HTML pages of the admin, image files addressed by id, and the guests' QR code."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import segno
from flask import Blueprint, Response, abort, jsonify, render_template, send_file

from ..publish import manifest
from . import get_config, get_store
from .auth import login_required
from .queries import buffer_counts, buffer_page, gallery_url, photo_json, status_snapshot
from .roles import current_user

bp = Blueprint("pages", __name__)

IMMUTABLE = 365 * 24 * 3600
PAGE = 60


@bp.get("/health")
def health() -> Any:
    """The only route open without login: for systemd, the demo and monitoring."""
    return jsonify(ok=True, schema=get_store().schema_version)


@bp.get("/")
@login_required
def index() -> Any:
    store = get_store()
    rows, next_cursor = buffer_page(store, "all", PAGE)
    counts = buffer_counts(store)
    boot = {  # the first page rides along with the HTML: the grid paints without a round trip
        "page": PAGE,
        "buffer": {"total": counts["all"], "counts": counts, "next": next_cursor,
                   "photos": [photo_json(r) for r in rows]},
        "status": status_snapshot(get_config(), store),
        "user": {k: user[k] for k in ("name", "role")} if (user := current_user()) else None,
    }
    return render_template("index.html", event=store.current_event(), boot=boot)


def _send_jpeg(path: Path) -> Any:
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=IMMUTABLE, conditional=True)
    response.headers["Cache-Control"] = f"private, max-age={IMMUTABLE}, immutable"
    return response


@bp.get("/thumbs/<int:photo_id>")
@login_required
def thumb(photo_id: int) -> Any:
    """A buffer thumbnail by photo id; the path comes from the store, never from the client."""
    photo = get_store().photo(photo_id)
    if photo is None or not photo["thumb_path"]:
        abort(404)
    return _send_jpeg(get_config().folder("state") / "thumbs" / photo["thumb_path"])


@bp.get("/published/<int:publication_id>/thumb")
@login_required
def published_thumb(publication_id: int) -> Any:
    """The gallery thumbnail of a publication (as published: edits applied)."""
    store = get_store()
    pub = store.publication(publication_id)
    event = store.event(pub["event_id"]) if pub else None
    if pub is None or event is None:
        abort(404)
    config = get_config()
    relative = manifest.thumb_key(pub["name"])
    for folder in (config.folder("web"), config.folder("trash")):
        path = folder / event["slug"] / relative
        if path.is_file():
            return _send_jpeg(path)
    abort(404)


# viewBox without a fixed size: the code scales to any print size.
SVG_OPTIONS = {"kind": "svg", "scale": 10, "border": 2, "dark": "#000", "light": "#fff", "xmldecl": False,
               "omitsize": True}


def _qr(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)


@bp.get("/qr.svg")
@login_required
def qr_svg() -> Any:
    """The public gallery URL as an SVG QR code (scales to any print size)."""
    url = gallery_url(get_config(), get_store())
    if not url:
        abort(404, "no gallery URL set (Settings → Event)")
    out = io.BytesIO()
    _qr(url).save(out, **SVG_OPTIONS)
    return Response(out.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@bp.get("/qr")
@login_required
def qr_page() -> Any:
    """A printable page for guests: the QR code, the event title and the URL."""
    store = get_store()
    return render_template("qr.html", event=store.current_event(), url=gallery_url(get_config(), store))
