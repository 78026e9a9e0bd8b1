"""Helpers for the pipeline and publish tests: samples, synthetic JPEGs, a hand-made ICC profile."""

from __future__ import annotations

import io
import math
import struct
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

# /work/shared beside the repository: /work/main -> parents[2], a worktree /work/wt/issue-N -> parents[3]
SAMPLES = next(
    (p / "shared" / "testdata" / "camera-samples" for p in Path(__file__).resolve().parents
     if (p / "shared" / "testdata" / "camera-samples").is_dir()),
    Path(__file__).resolve().parents[3] / "shared" / "testdata" / "camera-samples",
)


def sample(relative: str) -> Path:
    """A real camera JPEG from the shared samples; skips the test when they are absent."""
    path = SAMPLES / relative
    if not path.is_file():
        pytest.skip(f"camera sample {relative} not found under {SAMPLES}")
    return path


def save_jpeg(path: Path, image: Image.Image, **params: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    params.setdefault("quality", 95)
    image.save(path, "JPEG", **params)
    return path


def exif_bytes(**tags: Any) -> bytes:
    """EXIF with base tags by number; ``gps=True`` adds a GPS IFD, ``sub={tag: value}`` Exif IFD."""
    exif = Image.Exif()
    for key, value in tags.items():
        if key == "gps":
            exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 31.0, 12.5), 3: "E", 4: (13.0, 24.0, 1.0)})
        elif key == "sub":
            exif.get_ifd(0x8769).update(value)
        else:
            exif[int(key.removeprefix("t"), 16) if key.startswith("t") else int(key)] = value
    return exif.tobytes()


def mean_diff(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel (0..255) of two same-size images."""
    assert a.size == b.size, (a.size, b.size)
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def psnr(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size, (a.size, b.size)
    stat = ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB")))
    mse = sum(stat.sum2) / (3 * a.width * a.height)
    return 99.0 if mse == 0 else 10 * math.log10(255**2 / mse)


def region_mean(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[float, ...]:
    return tuple(ImageStat.Stat(image.convert("RGB").crop(box)).mean)


def marked_pattern(size: tuple[int, int] = (600, 400)) -> Image.Image:
    """Grey picture with a red top-left corner block and a blue bottom-right one."""
    image = Image.new("RGB", size, (128, 128, 128))
    w, h = size
    image.paste((230, 20, 20), (0, 0, w // 5, h // 5))
    image.paste((20, 20, 230), (w - w // 5, h - h // 5, w, h))
    return image


# -- a hand-made ICC profile --------------------------------------------------------------------
def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)


def _desc(text: str) -> bytes:
    ascii_ = text.encode() + b"\0"
    return (b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_)) + ascii_ + struct.pack(">II", 0, 0)
            + struct.pack(">HB", 0, 0) + b"\0" * 67)


def swapped_rgb_profile() -> bytes:
    """A gamma-2.2 RGB matrix profile whose red and blue primaries are sRGB's blue and red.

    Pixels tagged with it mean the opposite colours of their numbers: a correct conversion to sRGB
    swaps red and blue, an ignored profile does not.
    """
    red, green, blue = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)
    curve = b"curv" + b"\0" * 4 + struct.pack(">I", 1) + struct.pack(">H", round(2.2 * 256)) + b"\0\0"
    tags = [
        (b"desc", _desc("Swapped RGB (test)")),
        (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _xyz(*blue)),
        (b"gXYZ", _xyz(*green)),
        (b"bXYZ", _xyz(*red)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text" + b"\0" * 4 + b"public domain\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (struct.pack(">I", size) + b"\0" * 4 + struct.pack(">I", 0x02100000) + b"mntr" + b"RGB "
              + b"XYZ " + struct.pack(">6H", 2024, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 4
              + b"\0" * 4 + b"\0" * 8 + b"\0" * 8 + struct.pack(">I", 0)
              + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 4 + b"\0" * 16 + b"\0" * 28)
    assert len(header) == 128, len(header)
    return header + struct.pack(">I", len(tags)) + table + data


def jpeg_with_profile(path: Path, colour: tuple[int, int, int], icc: bytes) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(buffer, "JPEG", quality=95, icc_profile=icc)
    path.write_bytes(buffer.getvalue())
    return path
