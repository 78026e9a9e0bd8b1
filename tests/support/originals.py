"""RAW and HEIC test files kept in tests/data/ (real ones from ExifTool and pillow-heif, one synthetic
RAW; see the README beside each), and cards made of them."""

from __future__ import annotations

import shutil
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
# The synthetic RW2's embedded preview: 1800×1200, a red 400×300 block in the scene's top-left
# corner; the RAW says "rotate 90° clockwise" (EXIF orientation 6).
RAW_ONLY = DATA / "synthetic" / "P1000001.RW2"
PREVIEW_SIZE = (1800, 1200)
RED_BLOCK = (400, 300)
IPHONE_HEIC = DATA / "pillow-heif" / "empty_icc.heic"  # 1025×900, Display P3 ICC, iPhone XS EXIF
PLAIN_HEIF = DATA / "pillow-heif" / "RGB_8__128x128.heif"
CORRUPT_HEIC = DATA / "pillow-heif" / "corrupted.heic"
SMALL_PREVIEW = {  # ExifTool's RAW stubs: what each lacks
    "FujiFilm.raf": "embedded preview only 160×120 px (under 1600 px)",
    "Panasonic.rw2": "embedded preview only 8×8 px (under 1600 px)",
    "Nikon.nef": "no embedded preview (LibRaw: No thumbnail in file)",
    "CanonRaw.cr2": "not a readable RAW (LibRaw: Unsupported file format or not RAW file)",
}


def data(relative: str) -> Path:
    return DATA / relative


def put(dest: Path, source: Path | bytes) -> Path:
    """Copy ``source`` (a file, or bytes) to ``dest``, making its folder."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(source, bytes):
        dest.write_bytes(source)
    else:
        shutil.copyfile(source, dest)
    return dest


def truncated(source: Path, parts: int = 2) -> bytes:
    """The first half (or ``parts``-th) of a file, as a card pulled mid-write leaves it."""
    whole = source.read_bytes()
    return whole[: len(whole) // parts]
