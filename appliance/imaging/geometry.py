"""Geometry of an edit, planned on the original's size before anything is decoded.

EXIF orientation and the recipe's rotation become one transpose; straighten becomes a crop factor
(the largest centred rectangle of the same aspect ratio inside the turned frame) and one affine
pass; zoom and the output size decide how much of the frame is resampled and at which DCT scale the
JPEG needs decoding. :mod:`.bands` carries the plan out.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image

from .recipe import Recipe

# Straighten: keep the resampling kernel this many output pixels away from the frame's edge.
EDGE_INSET_PX = 3
# Pillow releases the GIL while encoding: the thumbnail and WebP are made beside the web JPEG.
THREADS = max(1, min(4, os.cpu_count() or 1))

_T = Image.Transpose
_ORIENT: dict[int, tuple[Image.Transpose, ...]] = {
    2: (_T.FLIP_LEFT_RIGHT,), 3: (_T.ROTATE_180,), 4: (_T.FLIP_TOP_BOTTOM,), 5: (_T.TRANSPOSE,),
    6: (_T.ROTATE_270,), 7: (_T.TRANSVERSE,), 8: (_T.ROTATE_90,),
}
_ROTATE = {90: _T.ROTATE_270, 180: _T.ROTATE_180, 270: _T.ROTATE_90}  # recipe rotation is clockwise
_SWAPS_AXES = {_T.ROTATE_90, _T.ROTATE_270, _T.TRANSPOSE, _T.TRANSVERSE}


def _compose_table() -> dict[tuple[int, int], Image.Transpose | None]:
    """EXIF orientation followed by a clockwise rotation, as one transpose (found by probing)."""
    probe = Image.frombytes("L", (3, 2), bytes(range(6)))
    candidates = {None: probe, **{t: probe.transpose(t) for t in _T}}
    table: dict[tuple[int, int], Image.Transpose | None] = {}
    for orientation in range(1, 9):
        for rotate in (0, 90, 180, 270):
            moved = probe
            for method in _ORIENT.get(orientation, ()):
                moved = moved.transpose(method)
            if rotate:
                moved = moved.transpose(_ROTATE[rotate])
            table[orientation, rotate] = next(
                t for t, img in candidates.items()
                if img.size == moved.size and img.tobytes() == moved.tobytes()
            )
    return table


_COMPOSED = _compose_table()


def upright(image: Image.Image, orientation: int) -> Image.Image:
    """Apply an EXIF orientation (1–8) to the pixels."""
    method = _COMPOSED.get((orientation, 0))
    return image if method is None else image.transpose(method)


def straighten_crop_factor(width: float, height: float, degrees: float) -> float:
    """Largest k such that a centred k·w × k·h rectangle, turned by ``degrees``, fits in w × h."""
    c, s = abs(math.cos(math.radians(degrees))), abs(math.sin(math.radians(degrees)))
    return min(width / (width * c + height * s), height / (width * s + height * c))


@dataclass(frozen=True)
class Plan:
    """Where the output comes from, in full-resolution pixels of the original."""

    transpose: Image.Transpose | None
    stored: tuple[int, int]  # the original as stored (before EXIF orientation)
    crop: float  # the region's share of the frame's width and height (straighten crop / zoom)
    box: tuple[float, float]  # what must be resampled: region's bounding box (+ kernel margin)
    output: tuple[int, int]
    factor: float  # output pixels per original pixel (≤ 1)
    straighten: float

    @property
    def swaps(self) -> bool:
        return self.transpose in _SWAPS_AXES


def plan(stored: tuple[int, int], orientation: int, recipe: Recipe, long_edge: int) -> Plan:
    """Plan the whole edit as geometry on the original's size (nothing is decoded yet)."""
    transpose = _COMPOSED[orientation, recipe.rotate]
    width, height = stored
    if transpose in _SWAPS_AXES:
        width, height = height, width
    zoom = max(recipe.scale, 1.0)
    target = long_edge * min(recipe.scale, 1.0)
    k = 1.0 / zoom
    if recipe.straighten:
        k *= straighten_crop_factor(width, height, recipe.straighten)
        # Keep the resampling kernel a few output pixels inside the frame: no dark corner pixel.
        out_short = min(width, height) * k * min(1.0, target / (max(width, height) * k))
        k *= max(0.5, 1 - 2 * EDGE_INSET_PX / max(1.0, out_short))
    rw, rh = width * k, height * k
    factor = min(1.0, target / max(rw, rh))  # never upscale
    out_w, out_h = max(1, round(rw * factor)), max(1, round(rh * factor))
    if recipe.straighten:
        c, s = abs(math.cos(math.radians(recipe.straighten))), abs(math.sin(math.radians(recipe.straighten)))
        margin = 2 * (EDGE_INSET_PX + 1) / factor
        bw, bh = min(width, rw * c + rh * s + margin), min(height, rw * s + rh * c + margin)
    else:
        bw, bh = rw, rh
    return Plan(transpose, stored, k, (bw, bh), (out_w, out_h), factor, recipe.straighten)


_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def executor() -> ThreadPoolExecutor:
    """A process-wide worker pool (made again after a fork, e.g. in gunicorn workers)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(THREADS, thread_name_prefix="pipeline"))
        return _pool[1]
