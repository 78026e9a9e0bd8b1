"""Live preview of the editor: the one pipeline (with the current watermark), cached briefly.

``GET /api/preview/ID?exposure=&rotate=&straighten=&scale=&size=`` renders what a publish would
produce, at ``size`` px (default 720). Renders are kept a couple of minutes per worker, keyed by the
photo, the recipe, the size and the watermark settings, so stepping back and forth costs nothing.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request

from ..imaging import pipeline, watermark
from ..imaging.recipe import Recipe, RecipeError
from ..publish import watermark_settings
from ..publish import worker as publisher
from . import get_config, get_store
from .auth import login_required
from .errors import ApiError

bp = Blueprint("preview", __name__, url_prefix="/api")

PREVIEW_EDGE = 720
SIZES = (320, 2048)
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


def recipe_from_query(args: Any, extra: tuple[str, ...] = ()) -> Recipe:
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
        return Recipe.parse(raw)
    except RecipeError as exc:
        raise ApiError(str(exc)) from exc


def size_from_query(args: Any) -> int:
    raw = args.get("size") or str(PREVIEW_EDGE)
    try:
        size = int(raw)
    except ValueError as exc:
        raise ApiError("size must be a whole number") from exc
    if not SIZES[0] <= size <= SIZES[1]:
        raise ApiError(f"size must be between {SIZES[0]} and {SIZES[1]}")
    return size


def cached(key: Any, render: Callable[[], bytes]) -> bytes:
    """A render from the cache, else made now (at most two at a time per worker)."""
    data = cache.get(key)
    if data is None:
        with _renders:
            try:
                data = render()
            except pipeline.ImageError as exc:
                raise ApiError(f"cannot render this photo: {exc}", 422) from exc
            except watermark.WatermarkError as exc:
                raise ApiError(f"cannot draw the watermark: {exc}", 422) from exc
        cache.put(key, data)
    return data


def jpeg_response(data: bytes) -> Response:
    """The JPEG, never stored by the browser (the admin swaps it in from a blob), with an ETag."""
    response = Response(data, mimetype="image/jpeg", headers={"Cache-Control": "no-store"})
    response.set_etag(hashlib.sha256(data).hexdigest()[:20])
    return response.make_conditional(request)


@bp.get("/preview/<int:photo_id>")
@login_required
def preview(photo_id: int) -> Any:
    """The photo as it would be published with this recipe (and the current watermark)."""
    recipe = recipe_from_query(request.args, extra=("size", "v"))
    size = size_from_query(request.args)
    store = get_store()
    photo = store.photo(photo_id)
    if photo is None:
        raise ApiError(f"no photo {photo_id} in the buffer", 404)
    digest = watermark_settings.load_settings(store).digest
    key = ("publish", photo_id, photo["sha256"], recipe, size, digest)
    data = cached(key, lambda: publisher.preview(get_config(), store, photo_id, recipe.to_dict(), size))
    return jpeg_response(data)
