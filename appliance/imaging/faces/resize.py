"""TensorFlow.js's bilinear resize (tfjs-backend-wasm ResizeBilinear: no corner alignment, no
half-pixel centres) in NumPy, float32 arithmetic in its order: the nets' inputs made here equal
face-api's bit for bit (detector.py, recogniser.py)."""

from __future__ import annotations

import numpy as np


def taps(old: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output row (or column) of a resize from ``old`` to ``size``: the two source indices it
    reads and the weight of the second."""
    src = np.float32(old / size) * np.arange(size, dtype=np.float32)
    low = np.floor(src).astype(np.int64)
    high = np.minimum(old - 1, np.ceil(src).astype(np.int64))
    return low, high, (src - low.astype(np.float32)).astype(np.float32)


def blend(tl: np.ndarray, tr: np.ndarray, bl: np.ndarray, br: np.ndarray, dx: np.ndarray,
          dy: np.ndarray) -> np.ndarray:
    """The four corners of every output pixel ([rows, columns, 3] float32) weighted by the
    columns' ``dx`` and the rows' ``dy``."""
    dx = dx[None, :, None]
    upper = tl + (tr - tl) * dx
    lower = bl + (br - bl) * dx
    return upper + (lower - upper) * dy[:, None, None]


def resize_bilinear(values: np.ndarray, size: int) -> np.ndarray:
    """A float32 [h, w, 3] array resized to [size, size, 3]."""
    top, bottom, dy = taps(values.shape[0], size)
    left, right, dx = taps(values.shape[1], size)
    upper_rows, lower_rows = values[top], values[bottom]
    return blend(upper_rows[:, left], upper_rows[:, right], lower_rows[:, left], lower_rows[:, right], dx, dy)
