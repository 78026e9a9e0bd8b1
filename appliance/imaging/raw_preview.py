"""A JPEG for a RAW frame shot without its JPEG: the camera's own embedded full-size preview.

Why rawpy (LibRaw) and not exiftool ``-PreviewImage``/``-JpgFromRaw``: LibRaw runs inside this
process, so opening a RAW and copying out its largest embedded JPEG costs a few milliseconds
(~5 ms for a 24 MP CR2; ~1 ms for tests/data/synthetic/P1000001.RW2), where every exiftool call
starts a Perl process first (~135 ms for the CR2; ~80 ms for ``exiftool -b -JpgFromRaw`` on the
RW2; ``-stay_open`` would mean babysitting a child process). LibRaw knows each maker's
layout (CR2, CR3, NEF, ARW, RAF, ORF, RW2, DNG) and picks the largest preview itself, reports the
RAW's orientation (its ``flip``), and the same library decodes the sensor data when the user asks
for it (``importer.raw_decode``, far too slow on a Pi to be the default).

The preview's pixels are never re-encoded: only its EXIF is replaced, by one carrying the RAW's
orientation, camera, capture time and exposure (see :func:`raw_exif`).
"""

from __future__ import annotations

import io
import struct
import threading
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import rawpy
from PIL import Image

from .derive import RAW_DECODE, RAW_PREVIEW, Derived, DeriveError, exif_bytes, with_exif
from .metadata import IFD_EXIF, TAG_DATETIME, TAG_MAKE, TAG_MODEL, TAG_ORIENTATION, exif_ifd

MIN_PREVIEW_EDGE = 1600
DECODE_QUALITY = 92
# LibRaw's flip (0 none, 3 180°, 5 90° counter-clockwise, 6 90° clockwise) as an EXIF orientation.
FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}
# TIFF-based RAWs whose header says otherwise: Olympus ORF (IIRO, IIRS, MMOR), Panasonic RW2 (IIU).
TIFF_ALIASES = {b"IIRO": b"II*\x00", b"IIRS": b"II*\x00", b"IIU\x00": b"II*\x00", b"MMOR": b"MM\x00*"}
TIFF_MAGIC = (b"II*\x00", b"MM\x00*")
HEAD_BYTES = 512 << 10  # where a RAW's IFD0 and EXIF IFD are found
KEEP_BASE = (TAG_MAKE, TAG_MODEL, TAG_DATETIME, 0x013B, 0x8298)  # + artist, copyright
# DateTimeOriginal/Digitized, offsets, sub-seconds, exposure, f-number, ISO, focal lengths, lens
KEEP_EXIF = (0x9003, 0x9004, 0x9010, 0x9011, 0x9012, 0x9290, 0x9291, 0x9292, 0x829A, 0x829D,
             0x8827, 0x920A, 0xA405, 0xA433, 0xA434)
# One development at a time: LibRaw holds several bytes a pixel while it demosaics (hundreds of
# MB for 24 MP), and the thumbnail pool has a thread per core.
_DEVELOPING = threading.Lock()
TAG_DATETIME_ORIGINAL, TAG_EXPOSURE, TAG_FNUMBER, TAG_ISO, TAG_FOCAL = 0x9003, 0x829A, 0x829D, 0x8827, 0x920A


def raw_jpeg(path: Path, min_edge: int = MIN_PREVIEW_EDGE, decode: bool = False) -> Derived:
    """The RAW's embedded JPEG preview with the RAW's EXIF, or (``decode``) its sensor data developed.

    Raises :class:`DeriveError` saying why there is none: not a RAW LibRaw reads, no JPEG preview,
    or one under ``min_edge`` pixels on its long edge.
    """
    try:
        raw = rawpy.imread(str(path))
    except (rawpy.LibRawError, OSError, ValueError) as exc:
        raise DeriveError(f"not a readable RAW ({_why(exc)})") from exc
    with raw:
        preview, why = _preview(raw, min_edge)
        if preview is not None:
            exif = raw_exif(path, raw, _exif_of(preview))
            return Derived(with_exif(preview, exif_bytes(exif)), RAW_PREVIEW)
        if not decode:
            raise DeriveError(f"{why}; RAW archived without a photo (importer.raw_decode develops it)")
        return _developed(path, raw, why)


def _preview(raw: Any, min_edge: int) -> tuple[bytes | None, str]:
    """The embedded JPEG when it is large enough, else (None, why not)."""
    try:
        thumb = raw.extract_thumb()
    except rawpy.LibRawError as exc:
        return None, f"no embedded preview ({_why(exc)})"
    if thumb.format != rawpy.ThumbFormat.JPEG:
        return None, "embedded preview is not a JPEG"
    data = bytes(thumb.data)
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except (OSError, SyntaxError, ValueError) as exc:
        return None, f"embedded preview is not a readable JPEG ({exc})"
    if max(width, height) < min_edge:
        return None, f"embedded preview only {width}×{height} px (under {min_edge} px)"
    return data, ""


def _developed(path: Path, raw: Any, why: str) -> Derived:
    """Demosaic the sensor data (LibRaw applies the orientation itself)."""
    try:
        with _DEVELOPING:
            rgb = raw.postprocess(use_camera_wb=True, output_bps=8)
    except (rawpy.LibRawError, MemoryError, ValueError) as exc:
        raise DeriveError(f"{why}; decoding the RAW failed too ({_why(exc)})") from exc
    exif = raw_exif(path, raw, Image.Exif(), raw_unpacked=True)
    exif[TAG_ORIENTATION] = 1
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=DECODE_QUALITY, optimize=True, exif=exif_bytes(exif))
    return Derived(out.getvalue(), RAW_DECODE)


def raw_exif(path: Path, raw: Any, preview_exif: Image.Exif, raw_unpacked: bool = False) -> Image.Exif:
    """EXIF for a derived JPEG: the RAW's own TIFF tags, else the preview's; orientation from
    LibRaw's flip. LibRaw's own capture time and exposure fill the gaps only once the sensor data is
    unpacked anyway (``raw_unpacked``): reading them unpacks it, 80 ms for a tiny RAW, far more on a Pi."""
    sources = [s for s in (tiff_exif(path), preview_exif) if s is not None]
    out = Image.Exif()
    for tag in KEEP_BASE:
        value = next((s[tag] for s in sources if isinstance(s.get(tag), str | bytes) and s.get(tag)), None)
        if value is not None:
            out[tag] = value
    kept: dict[int, Any] = {}
    for source in reversed(sources):  # the RAW's own values win
        ifd = exif_ifd(source)
        kept.update({tag: ifd[tag] for tag in KEEP_EXIF if tag in ifd})
    if raw_unpacked:
        _fill_from_libraw(kept, raw)
    if kept:
        out.get_ifd(IFD_EXIF).update(kept)
    orientation = FLIP_TO_ORIENTATION.get(int(raw.sizes.flip))
    out[TAG_ORIENTATION] = orientation or int(preview_exif.get(TAG_ORIENTATION, 1) or 1)
    return out


def _fill_from_libraw(kept: dict[int, Any], raw: Any) -> None:
    """Capture time and exposure LibRaw parsed (CR3, RAF...), where no TIFF tag gave them."""
    try:
        other = raw.other
    except (AttributeError, rawpy.LibRawError):
        return
    stamp = other.timestamp
    if TAG_DATETIME_ORIGINAL not in kept and isinstance(stamp, datetime) and stamp.year > 1970:
        kept[TAG_DATETIME_ORIGINAL] = stamp.strftime("%Y:%m:%d %H:%M:%S")
    for tag, value in ((TAG_EXPOSURE, other.shutter_speed), (TAG_FNUMBER, other.aperture),
                       (TAG_FOCAL, other.focal_length)):
        if tag not in kept and value and value > 0:
            kept[tag] = float(value)
    if TAG_ISO not in kept and other.iso_speed and other.iso_speed > 0:
        kept[TAG_ISO] = int(other.iso_speed)


def tiff_exif(path: Path) -> Image.Exif | None:
    """The RAW's IFD0 (and EXIF IFD) when it is TIFF-based (CR2, NEF, ARW, DNG, ORF, RW2), else None."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return None
    head = TIFF_ALIASES.get(head[:4], head[:4]) + head[4:]
    if head[:4] not in TIFF_MAGIC:
        return None
    exif = Image.Exif()
    try:
        with warnings.catch_warnings():  # tags whose data lies past the head (the previews) are left out
            warnings.simplefilter("ignore")
            exif.load(head)
            exif_ifd(exif)  # read now: a broken EXIF IFD counts as none
    except (OSError, SyntaxError, ValueError, KeyError, TypeError, struct.error):
        return None
    return exif


def _exif_of(jpeg: bytes) -> Image.Exif:
    try:
        with Image.open(io.BytesIO(jpeg)) as image:
            return image.getexif()
    except (OSError, SyntaxError, ValueError):
        return Image.Exif()


def _why(exc: BaseException) -> str:
    text = exc.args[0] if exc.args else type(exc).__name__
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"LibRaw: {text}" if isinstance(exc, rawpy.LibRawError) else str(text)
