"""Cards for the import report: real camera JPEGs laid out like a camera's card, with the hidden
files a Mac or Windows leaves on it, and a bad card that adds every kind of trouble (a zero-byte
file, a truncated and a corrupt JPEG, the same frame twice)."""

from __future__ import annotations

import shutil
from pathlib import Path

from support.samples import sample

GOOD = {"IMG_0001.JPG": "exif-org/nikon-e950.jpg", "IMG_0002.JPG": "exif-org/olympus-c960.jpg",
        "IMG_0003.JPG": "exif-org/olympus-d320l.jpg"}


def good_card(card: Path) -> Path:
    """Three photos, three hidden/system files and a video; returns the DCIM folder."""
    dcim = card / "DCIM" / "100CANON"
    dcim.mkdir(parents=True)
    for name, src in GOOD.items():
        shutil.copy(sample(src), dcim / name)
    (dcim / "._IMG_0001.JPG").write_bytes(b"\x00\x05\x16\x07" + b"\x00" * 4000)  # AppleDouble
    (card / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + b"\x00" * 100)
    (dcim / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    (dcim / "MVI_0004.MP4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 1000)
    return dcim


def bad_card(card: Path) -> Path:
    """The good card plus: a zero-byte file, a truncated and a corrupt JPEG, a duplicate."""
    dcim = good_card(card)
    jpeg = sample("gps/DSCN0021.jpg").read_bytes()
    (dcim / "IMG_0005.JPG").write_bytes(b"")
    (dcim / "IMG_0006.JPG").write_bytes(jpeg[: len(jpeg) // 3])
    (dcim / "IMG_0007.JPG").write_bytes(jpeg[:3] + bytes(range(256)) * 64)  # a marker, then garbage
    shutil.copy(dcim / "IMG_0002.JPG", dcim / "IMG_0008.JPG")  # the same frame copied twice
    return dcim
