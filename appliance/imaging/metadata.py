"""EXIF in and out: what an original tells at import, what a published file keeps.

Published files keep capture time, camera, lens and exposure, carry artist and copyright from the
settings and are marked upright; GPS, maker notes and everything else (XMP, IPTC and comments are
never copied either) stay behind.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PIL import Image

TAG_MAKE, TAG_MODEL, TAG_DATETIME, TAG_ARTIST, TAG_COPYRIGHT = 0x010F, 0x0110, 0x0132, 0x013B, 0x8298
TAG_ORIENTATION = 0x0112
TAG_RATING, TAG_RATING_PERCENT = 0x4746, 0x4749  # IFD0, as Windows, Sony, Canon and Nikon write them
XMP_RATING = "{http://ns.adobe.com/xap/1.0/}Rating"  # xmp:Rating, -1 (reject) to 5 stars
XMP_RATING_PERCENT = "{http://ns.microsoft.com/photo/1.0}Rating"  # MicrosoftPhoto:Rating, 0 to 100
XMP_MAX_BYTES = 1 << 20
IFD_EXIF = 0x8769
# DateTimeOriginal/Digitized, offsets, sub-seconds, exposure time, f-number, ISO, focal length,
# focal length in 35 mm, lens make and model.
EXIF_KEEP = (0x9003, 0x9004, 0x9010, 0x9011, 0x9012, 0x9290, 0x9291, 0x9292, 0x829A, 0x829D,
             0x8827, 0x920A, 0xA405, 0xA433, 0xA434)


@dataclass(frozen=True)
class ExifInfo:
    """Metadata read from an original at import time."""

    width: int
    height: int
    orientation: int
    capture_time: str | None
    make: str | None
    model: str | None
    rating: int | None = None  # in-camera rating: 1-5 stars, 0 unrated, -1 rejected; None if absent


def orientation_of(exif: Image.Exif) -> int:
    """The EXIF orientation 1–8 (anything else counts as 1)."""
    try:
        value = int(exif.get(TAG_ORIENTATION, 1) or 1)
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


def exif_ifd(exif: Image.Exif) -> dict[int, Any]:
    try:
        return dict(exif.get_ifd(IFD_EXIF))
    except (KeyError, ValueError, TypeError, OSError):
        return {}


def exif_for_output(src: Image.Exif, artist: str = "", copyright_: str = "") -> bytes:
    """EXIF for a published file: capture time, camera and exposure kept; location dropped; upright.

    Artist and copyright come from the settings; when those are empty the camera's own are kept.
    """
    out = Image.Exif()
    for tag in (TAG_MAKE, TAG_MODEL, TAG_DATETIME, TAG_ARTIST, TAG_COPYRIGHT):
        if tag in src and isinstance(src[tag], str | bytes):
            out[tag] = src[tag]
    for tag, text in ((TAG_ARTIST, artist), (TAG_COPYRIGHT, copyright_)):
        if text:  # UTF-8 in the ASCII-typed tags, as exiftool and Lightroom write "©"
            out[tag] = text if text.isascii() else text.encode("utf-8")
    out[TAG_ORIENTATION] = 1
    src_ifd = exif_ifd(src)
    kept = {tag: src_ifd[tag] for tag in EXIF_KEEP if tag in src_ifd}
    if kept:
        out.get_ifd(IFD_EXIF).update(kept)
    try:
        return out.tobytes()
    except (ValueError, TypeError, OSError, struct.error):
        base = Image.Exif()  # an odd camera value that cannot be written again: keep the essentials
        base[TAG_ORIENTATION] = 1
        for tag in (TAG_ARTIST, TAG_COPYRIGHT):
            if tag in out:
                base[tag] = out[tag]
        return base.tobytes()


def text_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = str(value).strip("\x00 ").strip()
    return value or None


def capture_time(sub: dict[int, Any], base: Any) -> str | None:
    """EXIF DateTimeOriginal (+ sub-seconds, + offset) as ISO 8601, or None."""
    raw = text_value(sub.get(0x9003)) or text_value(base.get(TAG_DATETIME))
    if not raw or len(raw) < 19:
        return None
    try:  # a real date and time (a camera whose clock was never set writes 0000:00:00)
        moment = datetime.strptime(raw[:10].replace("-", ":") + " " + raw[11:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    iso = moment.strftime("%Y-%m-%dT%H:%M:%S")
    subsec = text_value(sub.get(0x9291))
    if subsec and subsec.isdigit():
        iso += f".{subsec[:3].ljust(3, '0')}"
    offset = text_value(sub.get(0x9011))
    if offset and len(offset) == 6 and offset[0] in "+-":
        iso += offset
    return iso


def _stars(value: Any, percent: bool = False) -> int | None:
    """A rating as stars -1..5 (a percentage 1-100 maps as Windows does: 1, 25, 50, 75, 99)."""
    try:
        number = float(value.decode() if isinstance(value, bytes) else value)
    except (TypeError, ValueError, UnicodeDecodeError):
        return None
    if percent:
        return 0 if number <= 0 else min(5, round(number / 25) + 1)
    return max(-1, min(5, int(number)))


def _xmp_ratings(xmp: bytes | str | None) -> tuple[int | None, int | None]:
    """(xmp:Rating, MicrosoftPhoto:Rating as stars) from an XMP packet, as attribute or element."""
    if not xmp or len(xmp) > XMP_MAX_BYTES:
        return None, None
    try:
        root = ET.fromstring(xmp.strip(b"\x00 \n" if isinstance(xmp, bytes) else "\x00 \n"))
    except ET.ParseError:
        return None, None
    found: dict[str, str] = {}
    for node in root.iter():
        for key in (XMP_RATING, XMP_RATING_PERCENT):
            if key in node.attrib:
                found.setdefault(key, node.attrib[key])
            elif node.tag == key and node.text:
                found.setdefault(key, node.text.strip())
    return _stars(found.get(XMP_RATING)), _stars(found.get(XMP_RATING_PERCENT), percent=True)


def rating_of(exif: Image.Exif, xmp: bytes | str | None) -> int | None:
    """The in-camera rating: EXIF Rating, else XMP xmp:Rating, else either percentage form."""
    xmp_stars, xmp_percent = _xmp_ratings(xmp)
    for value in (_stars(exif.get(TAG_RATING)), xmp_stars,
                  _stars(exif.get(TAG_RATING_PERCENT), percent=True), xmp_percent):
        if value is not None:
            return value
    return None
