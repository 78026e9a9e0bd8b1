"""Edit a photo band by band while its JPEG is still decoding.

Decoding is the one step that cannot be split over cores (a JPEG's entropy-coded data is a single
stream), and it is most of a publish. So the decoder fills the frame from the top in this thread,
and as soon as a band of rows is complete, another thread resamples it to the output's density
(1.25× that for a straighten), converts it to sRGB, straightens it, applies the exposure and turns
it upright into its place in the output. When the last row is decoded only the last band is left.

Everything happens in the original's stored orientation (the transpose comes last, per band), so
a band of decoded rows is a band of output rows. A JPEG whose rows cannot be watched as they
decode (progressive JPEGs, CMYK, greyscale, multi-picture files) is loaded whole first and goes
through the same :class:`Bands` as one band: one code path, whatever the input.

How rows are known to be decoded: the frame's last column is first painted with a canary colour;
the decoder writes whole rows in order, and the frame is only looked at between ``decode`` calls,
so every row above one whose last pixel is no longer the canary is complete. A decoded pixel that
happens to be the canary colour only makes the count lower for a moment, never too high.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from PIL import Image, ImageFile, JpegImagePlugin

if TYPE_CHECKING:
    from .geometry import Plan

LANCZOS_SUPPORT = 3.0  # Lanczos-3: input rows each side of an output row's centre, per unit scale
AFFINE_MARGIN = 4  # rows around an affine sample: the bilinear kernel plus rounding
FEED_BYTES = 1 << 17  # compressed bytes handed to the decoder between looks at the frame
BAND_ROWS = (32, 384)  # bounds of a band: decoded rows handed to the band thread at once
STRAIGHTEN = Image.Resampling.BILINEAR  # bicubic costs 2.3× as much
# The straighten samples an image this much denser than the output: bilinear at the output's own
# density blurs (bench photos: 35 dB against a full-size edit; 38 dB at 1.25×, <1 % slower, +7 MB
# at 45 MP; 1.5× scored no better there).
STRAIGHTEN_DENSITY = 1.25
FINAL_PARTS = 2  # the bands left when the last row is decoded are split this many ways
CANARY = (1, 254, 3)  # painted down the frame's last column before decoding
MIRRORS = {Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.FLIP_TOP_BOTTOM,
           Image.Transpose.TRANSPOSE, Image.Transpose.TRANSVERSE}


RESAMPLE, TURN = "resample", "turn"


class Task(NamedTuple):
    """One band of work: resample rows ``start``..``end`` of the resampled image (or, without a
    straighten, of the output), or turn output rows ``start``..``end``, which reads what the first
    ``after`` resample tasks made."""

    kind: str
    start: int
    end: int
    after: int


def stored_from_display(method: Image.Transpose | None, size: tuple[int, int]
                        ) -> tuple[float, float, float, float, float, float]:
    """``(m00, m01, t0, m10, m11, t1)``: where a point of ``image.transpose(method)`` was in an
    image of ``size``, u = m00·x + m01·y + t0, v = m10·x + m11·y + t1 (continuous coordinates)."""
    w, h = size
    t = Image.Transpose
    return {
        None: (1, 0, 0, 0, 1, 0),
        t.FLIP_LEFT_RIGHT: (-1, 0, w, 0, 1, 0),
        t.FLIP_TOP_BOTTOM: (1, 0, 0, 0, -1, h),
        t.ROTATE_180: (-1, 0, w, 0, -1, h),
        t.ROTATE_90: (0, -1, w, 1, 0, 0),
        t.ROTATE_270: (0, 1, 0, -1, 0, h),
        t.TRANSPOSE: (0, 1, 0, 1, 0, 0),
        t.TRANSVERSE: (0, -1, w, -1, 0, h),
    }[method]


def moved_box(method: Image.Transpose | None, box: tuple[int, int, int, int],
              size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Where ``box`` of an image of ``size`` lands after ``image.transpose(method)``."""
    x0, y0, x1, y1 = box
    w, h = size
    t = Image.Transpose
    return {
        None: (x0, y0, x1, y1),
        t.FLIP_LEFT_RIGHT: (w - x1, y0, w - x0, y1),
        t.FLIP_TOP_BOTTOM: (x0, h - y1, x1, h - y0),
        t.ROTATE_180: (w - x1, h - y1, w - x0, h - y0),
        t.ROTATE_90: (y0, w - x1, y1, w - x0),
        t.ROTATE_270: (h - y1, x0, h - y0, x1),
        t.TRANSPOSE: (y0, x0, y1, x1),
        t.TRANSVERSE: (h - y1, w - x1, h - y0, w - x0),
    }[method]


class Bands:
    """The edit of one photo, done band by band as rows of the decoded frame become available.

    ``to_rgb`` turns a band of output pixels into sRGB RGB (colour management); ``lut`` is the
    exposure table or None. Call :meth:`rows_ready` as rows arrive (any thread may own the frame;
    only the rows below the count given are read) and :meth:`finish` once; it returns the upright
    output.
    """

    def __init__(self, p: Plan, frame_size: tuple[int, int], to_rgb: Callable[[Image.Image], Image.Image],
                 lut: list[int] | None) -> None:
        self.p, self.to_rgb, self.lut = p, to_rgb, lut
        full_w, full_h = p.stored
        fw, fh = self.frame_size = frame_size
        # Decoded pixels per original pixel: 1/scale for the DCT scale the decoder used (a frame
        # of ceil(size / scale) pixels, the last one partly outside when size isn't a multiple).
        sx = sy = 1 / max(1, round(full_w / fw))
        box_w, box_h = (p.box[1], p.box[0]) if p.swaps else p.box  # stored orientation
        left, top = (full_w - box_w) / 2 * sx, (full_h - box_h) / 2 * sy
        self.box = (left, top, left + box_w * sx, top + box_h * sy)
        out_w, out_h = self.out_size = (p.output[1], p.output[0]) if p.swaps else p.output
        if p.straighten:  # resampled a little denser than the output, then turned
            dense = p.factor * STRAIGHTEN_DENSITY
            self.r_size = (max(1, round(box_w * dense)), max(1, round(box_h * dense)))
        else:
            self.r_size = (out_w, out_h)
        self.step = (self.box[3] - self.box[1]) / self.r_size[1]  # frame rows per resampled row
        self.support = LANCZOS_SUPPORT * max(1.0, self.step)
        self.copy_only = self.r_size == frame_size and self.box == (0, 0, fw, fh)
        # Frame rows the output reads: decoding stops there (a zoom or straighten crops the bottom).
        self.rows_needed = fh if self.copy_only else min(fh, math.ceil(self.box[3] + self.support) + 2)
        self.straightening = bool(p.straighten)
        # Made with the first band, in the frame's own mode: colour management comes after the
        # turn, on the output's pixels rather than the 1.56× as many of this image.
        self.resampled: Image.Image | None = None
        if self.straightening:
            density = (self.r_size[0] / (box_w * p.factor), self.r_size[1] / (box_h * p.factor))
            self.affine = _straighten_affine(self.r_size, self.out_size, density, p.straighten * (
                -1 if p.transpose in MIRRORS else 1))
        # Not initialised (no 10-17 MB fills): the bands cover every pixel of this and resampled.
        self.output = Image.new("RGB", p.output, None)
        self.r_planned = 0  # resampled rows planned (made, or to be made, by a Task)
        self.s_planned = 0  # straightened rows planned
        self.resamples = 0  # resample tasks planned
        self._lock = threading.Lock()

    # which rows can be made from what is there -------------------------------------------------
    def _resampled_rows(self, frame_rows: int) -> int:
        if frame_rows >= self.rows_needed:
            return self.r_size[1]
        if self.copy_only:
            return frame_rows
        # row j reads frame rows up to box top + (j + 0.5) * step + support
        j = math.floor((frame_rows - 1 - self.support - self.box[1]) / self.step - 0.5)
        return max(0, min(self.r_size[1], j))

    def _straightened_rows(self, resampled_rows: int) -> int:
        if resampled_rows >= self.r_size[1]:
            return self.out_size[1]
        _, _, _, d, e, f = self.affine
        lowest = max(0.0, d * self.out_size[0])  # x where the source row is largest
        k = math.floor((resampled_rows - AFFINE_MARGIN - f - lowest) / e) - 1
        return max(0, min(self.out_size[1], k))

    # the work ----------------------------------------------------------------------------------
    def plan(self, frame_rows: int) -> list[Task]:
        """The bands the first ``frame_rows`` rows allow beyond those already planned.

        Planned from the row counts alone, in the order they come, so the bands (and the rounding
        at their edges) depend on the file, never on which thread makes them or when."""
        tasks: list[Task] = []
        # What is left once every row is decoded is on the critical path: planned in two halves,
        # so that two threads can make it.
        parts = FINAL_PARTS if frame_rows >= self.rows_needed else 1
        j1 = self._resampled_rows(frame_rows)
        for start, end in _split(self.r_planned, j1, parts):
            tasks.append(Task(RESAMPLE, start, end, self.resamples))
            self.r_planned, self.resamples = end, self.resamples + 1
        if self.straightening:
            k1 = self._straightened_rows(self.r_planned)
            # each turn reads the resampled rows of every resample planned so far
            tasks += [Task(TURN, start, end, self.resamples)
                      for start, end in _split(self.s_planned, k1, parts)]
            self.s_planned = max(self.s_planned, k1)
        return tasks

    def run(self, frame: Image.Image, task: Task) -> None:
        """Make one planned band (a turn only once the resamples it reads are made)."""
        if task.kind == RESAMPLE:
            band = self._resample(frame, task.start, task.end)
            if not self.straightening:
                self._place(self.to_rgb(band), task.start)
                return
            with self._lock:
                if self.resampled is None:
                    self.resampled = Image.new(band.mode, self.r_size, None)
            self.resampled.paste(band, (0, task.start))
            return
        assert self.resampled is not None
        # The band is turned straight into its upright place: the orientation's transpose is
        # folded into the affine, so no transposed copy of the band is made.
        x0, y0, x1, y1 = moved_box(self.p.transpose, (0, task.start, self.out_size[0], task.end),
                                   self.out_size)
        band = self.resampled.transform((x1 - x0, y1 - y0), Image.Transform.AFFINE,
                                        upright_affine(self.affine, self.p.transpose,
                                                       self.out_size, (x0, y0)), STRAIGHTEN)
        self._paste(self.to_rgb(band), (x0, y0))

    def rows_ready(self, frame: Image.Image, frame_rows: int) -> None:
        """Make, in this thread, every band the first ``frame_rows`` rows of ``frame`` allow."""
        for task in self.plan(frame_rows):
            self.run(frame, task)

    def finish(self, frame: Image.Image) -> Image.Image:
        """Do what is left (all rows are decoded) and return the upright output."""
        self.rows_ready(frame, self.frame_size[1])
        return self.output

    def _resample(self, frame: Image.Image, j0: int, j1: int) -> Image.Image:
        if self.copy_only:
            return frame.crop((0, j0, self.frame_size[0], j1))
        left, top, right, _ = self.box
        return frame.resize((self.r_size[0], j1 - j0), Image.Resampling.LANCZOS,
                            box=(left, top + j0 * self.step, right, top + j1 * self.step))

    def _place(self, band: Image.Image, row: int) -> None:
        """Turn upright, expose and paste a finished band of output rows (stored orientation)."""
        at = moved_box(self.p.transpose, (0, row, band.width, row + band.height), self.out_size)
        if self.p.transpose is not None:
            band = band.transpose(self.p.transpose)
        self._paste(band, at[:2])

    def _paste(self, band: Image.Image, at: tuple[int, int]) -> None:
        """Expose an upright band and paste it at ``at`` in the output."""
        self.output.paste(band if self.lut is None else band.point(self.lut), at)


def upright_affine(affine: tuple[float, float, float, float, float, float],
                   method: Image.Transpose | None, size: tuple[int, int], origin: tuple[int, int]
                   ) -> tuple[float, float, float, float, float, float]:
    """``affine`` (output in stored orientation → source) as a mapping from the upright output,
    counted from ``origin`` there: one transform makes the band upright in place."""
    a, b, c, d, e, f = affine
    m00, m01, t0, m10, m11, t1 = stored_from_display(method, size)
    u0 = m00 * origin[0] + m01 * origin[1] + t0
    v0 = m10 * origin[0] + m11 * origin[1] + t1
    return (a * m00 + b * m10, a * m01 + b * m11, a * u0 + b * v0 + c,
            d * m00 + e * m10, d * m01 + e * m11, d * u0 + e * v0 + f)


def _split(start: int, end: int, parts: int) -> list[tuple[int, int]]:
    """Rows ``start``..``end`` in up to ``parts`` bands of about equal height (none if empty)."""
    if end <= start:
        return []
    cuts = [start + (end - start) * i // parts for i in range(parts + 1)]
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def _straighten_affine(src: tuple[int, int], out: tuple[int, int], density: tuple[float, float],
                       degrees: float) -> tuple[float, float, float, float, float, float]:
    """Output → source mapping turning the picture ``degrees`` clockwise about both centres.

    The source (the resampled box) is :data:`STRAIGHTEN_DENSITY` times as dense as the output:
    ``density`` is the exact ratio (source pixels per output pixel, off by the box's rounding)."""
    a = math.radians(degrees)
    cos_a, sin_a = math.cos(a), math.sin(a)
    gx, gy = density
    m0, m1, m3, m4 = gx * cos_a, gx * sin_a, -gy * sin_a, gy * cos_a
    cx, cy = out[0] / 2, out[1] / 2
    return (m0, m1, src[0] / 2 - m0 * cx - m1 * cy, m3, m4, src[1] / 2 - m3 * cx - m4 * cy)


# -- decoding row by row --------------------------------------------------------------------------
def streamable(image: Image.Image) -> bool:
    """Can ``image`` (opened, draft applied, not loaded) be decoded row by row?"""
    return (hasattr(Image, "_getdecoder") and hasattr(image, "load_read")  # Pillow internals used
            and type(image) is JpegImagePlugin.JpegImageFile and image.mode == "RGB"
            and len(image.tile) == 1 and image.tile[0].codec_name == "jpeg"
            and image.tile[0].args[0] == "RGB" and not image.info.get("progressive")
            and not image.info.get("progression"))


class DecodeError(OSError):
    """The JPEG data is truncated or corrupt."""


def decode_in_bands(image: JpegImagePlugin.JpegImageFile,
                    on_rows: Callable[[Image.Image, int], None],
                    rows_needed: int | None = None) -> Image.Image:
    """Decode a :func:`streamable` JPEG into an RGB frame, calling ``on_rows(frame, rows)``
    whenever a band's worth more rows are complete (:func:`band_rows`). Returns the frame: all
    of it, or its first ``rows_needed`` rows (the rest of the file is then not decoded at all)."""
    tile = image.tile[0]
    frame = Image.new("RGB", image.size, None)  # not initialised (a 24 MB fill saved) except:
    frame.paste(CANARY, (frame.width - 1, 0, frame.width, frame.height))  # the column looked at
    # Pillow has no public API for feeding a JPEG decoder chunk by chunk: its own ImageFile.load does this
    decoder = Image._getdecoder("RGB", "jpeg", tile.args, image.decoderconfig)
    assert image.fp is not None
    image.fp.seek(tile.offset)
    rows = announced = err = 0
    last = frame.height if rows_needed is None else rows_needed
    pending = b""
    try:
        decoder.setimage(frame.im, tile.extents)
        while True:
            data = image.load_read(FEED_BYTES)
            if not data:
                if ImageFile.LOAD_TRUNCATED_IMAGES:
                    break
                raise DecodeError(f"image file is truncated ({len(pending)} bytes not processed)")
            pending += data
            consumed, err = decoder.decode(pending)
            if consumed < 0:
                break
            pending = pending[consumed:]
            if err < 0:
                raise DecodeError(ImageFile.ERRORS.get(err, f"decoder error {err}"))
            rows = _complete_rows(frame, rows)
            if rows_needed is not None and rows >= rows_needed:
                err = 0
                break
            if rows - announced >= band_rows(last - rows):
                on_rows(frame, rows)
                announced = rows
        if err < 0 and not ImageFile.LOAD_TRUNCATED_IMAGES:
            raise DecodeError(ImageFile.ERRORS.get(err, f"decoder error {err}"))
    finally:
        decoder.cleanup()
    return frame


def band_rows(left: int) -> int:
    """Rows to wait for before handing on the next band, with ``left`` rows still to decode.

    Large bands first: every band's Lanczos resample computes its coefficient tables while
    holding the GIL, and the decoding thread waits for it between ``decode`` calls. Small bands
    last: what is left when the last row is decoded is on the publish's critical path."""
    low, high = BAND_ROWS
    return max(low, min(high, left // 3))


def _complete_rows(frame: Image.Image, known: int) -> int:
    """How many rows from the top the decoder has written, at least (galloping search from the
    last count: a chunk of data holds a few dozen rows)."""
    pixel = frame.im.getpixel  # the core's accessor: this runs between decode calls, ~100 times
    x, height = frame.width - 1, frame.height
    lo, step = known, 16
    hi = min(height, lo + step)
    while hi < height and pixel((x, hi)) != CANARY:  # written: so is every row above it
        lo, step = hi + 1, step * 2
        hi = min(height, lo + step)
    while lo < hi:
        mid = (lo + hi) // 2
        if pixel((x, mid)) != CANARY:
            lo = mid + 1
        else:
            hi = mid
    return lo
