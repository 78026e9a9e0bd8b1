"""The published face index of an event (``faces.bin``, format v1): encode and decode, pure functions.

Little-endian. Header: ``b"FIDX"``, u8 version (1), u8 kind (1 = int8), u16 dims (128), u32 photo
count P, u32 face count F, u32 names length L; then L bytes of UTF-8: the P photo names (the
manifest's ``name``) joined with ``"\\n"``; zero padding to a multiple of 4 bytes; then F records of
140 bytes: u32 photo index (into the names), u16 x, y, w, h (the box as a fraction of the image's
width/height × 65535), int8[128] descriptor (L2-normalised, ``round(v * 127)`` clamped to ±127).

The browser's decoder is web/js/face-index.js; docs/faces.md describes the format.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAGIC = b"FIDX"
VERSION = 1
KIND_INT8 = 1
DIMS = 128
BOX_SCALE = 65535
HEADER = struct.Struct("<4sBBHIII")
RECORD_HEAD = struct.Struct("<IHHHH")
RECORD_SIZE = RECORD_HEAD.size + DIMS  # 140


class FaceIndexError(ValueError):
    """A face index that cannot be decoded (bad magic, version, kind or a truncated file)."""


@dataclass(frozen=True)
class Face:
    """One face: the photo's name, its box as fractions (x, y, w, h) of the image, its descriptor."""

    photo: str
    box: tuple[float, float, float, float]
    descriptor: tuple[float, ...]


def quantise(descriptor: Sequence[float]) -> bytes:
    """The int8 form of a descriptor: L2-normalised, then ``round(v * 127)`` clamped to ±127."""
    if len(descriptor) != DIMS:
        raise ValueError(f"a descriptor has {DIMS} values, not {len(descriptor)}")
    norm = math.sqrt(sum(float(v) * float(v) for v in descriptor))
    if not math.isfinite(norm) or norm == 0:
        raise ValueError("a descriptor must be finite and not all zeros")
    q = (max(-127, min(127, round(float(v) / norm * 127))) for v in descriptor)
    return struct.pack(f"<{DIMS}b", *q)


def _box_field(v: float) -> int:
    return max(0, min(BOX_SCALE, round(float(v) * BOX_SCALE)))


def encode(names: Sequence[str], faces: Iterable[Face]) -> bytes:
    """``faces.bin`` for the photos ``names`` (every face's photo must be one of them)."""
    for name in names:
        if not name or "\n" in name:
            raise ValueError(f"bad photo name {name!r}")
    position = {name: i for i, name in enumerate(names)}
    if len(position) != len(names):
        raise ValueError("photo names must be unique")
    records = []
    for face in faces:
        if face.photo not in position:
            raise ValueError(f"face of unknown photo {face.photo!r}")
        box = (_box_field(v) for v in face.box)
        records.append(RECORD_HEAD.pack(position[face.photo], *box) + quantise(face.descriptor))
    blob = "\n".join(names).encode()
    header = HEADER.pack(MAGIC, VERSION, KIND_INT8, DIMS, len(names), len(records), len(blob))
    padding = b"\0" * (-len(blob) % 4)
    return header + blob + padding + b"".join(records)


def decode(data: bytes) -> tuple[list[str], list[Face]]:
    """The photo names and faces of a ``faces.bin``; :class:`FaceIndexError` when it is not one."""
    if len(data) < HEADER.size:
        raise FaceIndexError(f"truncated face index: {len(data)} bytes, the header alone is {HEADER.size}")
    magic, version, kind, dims, photos, count, length = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise FaceIndexError(f"not a face index (magic {magic!r})")
    if version != VERSION:
        raise FaceIndexError(f"face index version {version} is not supported (only {VERSION})")
    if kind != KIND_INT8 or dims != DIMS:
        raise FaceIndexError(f"face index kind {kind} with {dims} dims is not supported")
    start = HEADER.size + length + (-length % 4)
    expected = start + count * RECORD_SIZE
    if len(data) != expected:
        raise FaceIndexError(f"face index is {len(data)} bytes, its header says {expected}")
    try:
        text = data[HEADER.size : HEADER.size + length].decode()
    except UnicodeDecodeError as exc:
        raise FaceIndexError("face index names are not UTF-8") from exc
    names = text.split("\n") if photos else []
    if len(names) != photos:
        raise FaceIndexError(f"face index names {len(names)} photos, its header says {photos}")
    faces = []
    for offset in range(start, expected, RECORD_SIZE):
        index, *box = RECORD_HEAD.unpack_from(data, offset)
        if index >= photos:
            raise FaceIndexError(f"face of photo {index}, the index has {photos}")
        values = struct.unpack_from(f"<{DIMS}b", data, offset + RECORD_HEAD.size)
        faces.append(Face(names[index], tuple(v / BOX_SCALE for v in box), tuple(v / 127 for v in values)))
    return names, faces
