"""What is shared by the JPEGs the buffer derives from originals that are not JPEGs (RAW, HEIC).

A derived JPEG stands in for the original everywhere a buffer photo is read (thumbnails, the editor,
the publish pipeline); the original itself is archived untouched.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from PIL import Image

RAW_PREVIEW, RAW_DECODE, HEIF = "raw-preview", "raw-decode", "heif"
SOI, SOS, EOI = 0xD8, 0xDA, 0xD9
APP0, APP1 = 0xE0, 0xE1
EXIF_HEADER = b"Exif\x00\x00"
MAX_SEGMENT = 0xFFFF - 2  # a JPEG segment's payload, its length field excluded


class DeriveError(Exception):
    """No JPEG can be derived from this original; the message says why, for the import report."""


@dataclass(frozen=True)
class Derived:
    """A JPEG made from an original, and how (``raw-preview``, ``raw-decode`` or ``heif``); with the
    pixels it was encoded from when they were decoded anyway (a HEIC: upright RGB, its ICC profile
    in ``info``), so the importer makes the admin thumbnail without decoding the JPEG again."""

    data: bytes
    how: str
    pixels: Image.Image | None = None


def exif_bytes(exif: Image.Exif) -> bytes:
    """``exif`` as an APP1 payload (``Exif\\0\\0`` + TIFF), or b"" when it cannot be written."""
    try:
        data = exif.tobytes()
    except (ValueError, TypeError, OSError, struct.error):
        return b""
    return data if len(data) <= MAX_SEGMENT else b""


def with_exif(jpeg: bytes, exif: bytes) -> bytes:
    """The same JPEG, its compressed data untouched, with its EXIF segment replaced by ``exif``.

    Pillow cannot rewrite a JPEG's metadata without re-encoding it, and re-encoding a 24 MP preview
    would cost a Pi a second and a generation of quality; so the segments before the scan are
    walked (each is a marker and a big-endian length) and every ``Exif`` APP1 is dropped; the new
    one goes right after SOI and a JFIF APP0, where readers look for it.
    """
    if jpeg[:2] != b"\xff\xd8":
        raise DeriveError("embedded preview is not a JPEG")
    head: list[bytes] = []
    rest: list[bytes] = []
    pos = 2
    while pos + 4 <= len(jpeg):
        if jpeg[pos] != 0xFF:
            raise DeriveError("embedded preview is a broken JPEG (bad segment marker)")
        marker = jpeg[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (SOS, EOI):
            break
        length = int.from_bytes(jpeg[pos + 2:pos + 4], "big")
        segment = jpeg[pos:pos + 2 + length]
        if length < 2 or len(segment) < 2 + length:
            raise DeriveError("embedded preview is a truncated JPEG")
        if marker == APP0 and not rest and segment[4:9] == b"JFIF\x00":
            head.append(segment)
        elif not (marker == APP1 and segment[4:10] == EXIF_HEADER):
            rest.append(segment)
        pos += 2 + length
    else:
        raise DeriveError("embedded preview is a truncated JPEG (no image data)")
    app1 = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif if exif else b""
    return b"\xff\xd8" + b"".join(head) + app1 + b"".join(rest) + jpeg[pos:]
