"""Live preview of the editor: the real pipeline at ~720 px, recipe in the query string, cached briefly."""

from __future__ import annotations

import hashlib
import io
import json
import math
import threading
import time
from collections import OrderedDict
from typing import Any

from flask import Blueprint, Response, request
from PIL import Image

from .. import pipeline
from . import get_config, get_store
from . import watermark as wm
from .auth import login_required
from .errors import ApiError

bp = Blueprint("preview", __name__, url_prefix="/api")

PREVIEW_EDGE = 720
QUALITY = 80
CACHE_SECONDS = 120
CACHE_ENTRIES = 48
RECIPE_KEYS = ("exposure", "rotate", "straighten", "scale")
_renders = threading.BoundedSemaphore(2)  # a Pi has 4 cores and other services to run


class _Cache:
    """A small time-limited LRU of encoded previews (per worker process)."""

    def __init__(self, entries: int, seconds: float) -> None:
        self.entries, self.seconds = entries, seconds
        self.items: OrderedDict[Any, tuple[float, bytes]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> bytes | None:
        with self.lock:
            found = self.items.get(key)
            if found is None or found[0] < time.monotonic():
                self.items.pop(key, None)
                return None
            self.items.move_to_end(key)
            return found[1]

    def put(self, key: Any, data: bytes) -> None:
        with self.lock:
            self.items[key] = (time.monotonic() + self.seconds, data)
            self.items.move_to_end(key)
            while len(self.items) > self.entries:
                self.items.popitem(last=False)


cache = _Cache(CACHE_ENTRIES, CACHE_SECONDS)


def recipe_from_query(args: Any, extra: tuple[str, ...] = ()) -> pipeline.Recipe:
    """Parse ``?exposure=&rotate=&straighten=&scale=`` and validate with :meth:`Recipe.parse`."""
    unknown = set(args) - set(RECIPE_KEYS) - set(extra)
    if unknown:
        raise ApiError(f"unknown preview parameter {sorted(unknown)[0]!r}")
    raw: dict[str, Any] = {}
    for key in RECIPE_KEYS:
        value = args.get(key)
        if value in (None, ""):
            continue
        try:
            number = int(value) if key == "rotate" else float(value)
        except ValueError as exc:
            raise ApiError(f"{key} must be a number, got {value!r}") from exc
        if isinstance(number, float) and not math.isfinite(number):
            raise ApiError(f"{key} must be a finite number")
        raw[key] = number
    try:
        return pipeline.Recipe.parse(raw)
    except pipeline.RecipeError as exc:
        raise ApiError(str(exc)) from exc


def render_jpeg(photo: dict[str, Any], recipe: pipeline.Recipe, mark: dict[str, Any] | None) -> bytes:
    """Render a buffered photo through the pipeline (+ watermark) as preview JPEG bytes."""
    config = get_config()
    key = (photo["id"], photo["sha256"], recipe, json.dumps(mark, sort_keys=True) if mark else None)
    data = cache.get(key)
    if data is not None:
        return data
    with _renders:
        try:
            image = pipeline.render(
                config.folder("buffer") / photo["buffer_path"], recipe, long_edge=PREVIEW_EDGE
            )
        except pipeline.ImageError as exc:
            raise ApiError(f"cannot render this photo: {exc}", 422) from exc
        if mark:
            image = wm.composite(image, mark, config.folder("state"))
        data = encode(image)
    cache.put(key, data)
    return data


def encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY, progressive=True)
    return out.getvalue()


def jpeg_response(data: bytes, max_age: int = CACHE_SECONDS) -> Response:
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = f"private, max-age={max_age}"
    response.set_etag(hashlib.sha256(data).hexdigest()[:20])
    return response.make_conditional(request)


@bp.get("/preview/<int:photo_id>")
@login_required
def preview(photo_id: int) -> Any:
    """``GET /api/preview/ID?exposure=0.5&rotate=90&straighten=-2&scale=1.2[&wm=1]``."""
    recipe = recipe_from_query(request.args, extra=("wm", "v"))
    store = get_store()
    photo = store.photo(photo_id)
    if photo is None:
        raise ApiError(f"no photo {photo_id} in the buffer", 404)
    mark = None
    if request.args.get("wm") == "1":
        settings = wm.load(store)
        mark = settings if settings["kind"] != "none" else None
    return jpeg_response(render_jpeg(photo, recipe, mark))
