"""Images for the imaging, publish, ingest and admin tests: synthetic JPEGs (patterns, EXIF, ICC
profiles made by hand) and ways to compare pictures."""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageStat


# -- JPEGs --------------------------------------------------------------------------------------
def save_jpeg(path: Path, image: Image.Image, **params: Any) -> Path:
    """Write ``image`` as a JPEG (quality 95 unless given), making the folder; returns the path."""
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


def stamped_jpeg(sample: Path, dest: Path, when: str, subsec: str | None = None,
                 offset: str | None = None, make: str = "Canon", model: str = "EOS R6") -> Path:
    """A JPEG made from a real sample with the given EXIF capture time and camera."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = make, model, 1
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = when
    if subsec is not None:
        sub[0x9291] = subsec
    if offset is not None:
        sub[0x9011] = offset
    dest.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(sample) as image:
        image.save(dest, "JPEG", quality=90, exif=exif.tobytes())
    return dest


def marked_pattern(size: tuple[int, int] = (600, 400)) -> Image.Image:
    """Grey picture with a red top-left corner block and a blue bottom-right one."""
    image = Image.new("RGB", size, (128, 128, 128))
    w, h = size
    image.paste((230, 20, 20), (0, 0, w // 5, h // 5))
    image.paste((20, 20, 230), (w - w // 5, h - h // 5, w, h))
    return image


def jpeg_with_profile(path: Path, colour: tuple[int, int, int], icc: bytes) -> Path:
    """A 320×240 JPEG of one colour tagged with the ICC profile ``icc``."""
    return save_jpeg(path, Image.new("RGB", (320, 240), colour), icc_profile=icc)


# -- comparing pictures -------------------------------------------------------------------------
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


def mean_brightness(image: Image.Image) -> float:
    return sum(ImageStat.Stat(image.convert("RGB")).mean) / 3


# -- ICC profiles made by hand (Pillow's ImageCms only creates sRGB, LAB and XYZ) ----------------
D50 = (0.9642, 1.0, 0.8249)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)


def _desc(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return (b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_)) + ascii_ + struct.pack(">II", 0, 0)
            + struct.pack(">HB", 0, 0) + b"\0" * 67)


def _gamma_curve(gamma: float) -> bytes:
    return b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(gamma * 256))


def icc_profile(colour_space: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    """An ICC v2.1 display profile (D50, XYZ connection space) of ``colour_space`` (b"RGB ",
    b"GRAY") holding ``tags`` (signature, body)."""
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (struct.pack(">I", size) + b"\0" * 4 + struct.pack(">I", 0x02100000) + b"mntr"
              + colour_space + b"XYZ " + struct.pack(">6H", 2024, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 4
              + b"\0" * 4 + b"\0" * 8 + b"\0" * 8 + struct.pack(">I", 0)
              + _s15(D50[0]) + _s15(D50[1]) + _s15(D50[2]) + b"\0" * 4 + b"\0" * 16 + b"\0" * 28)
    assert len(header) == 128, len(header)
    return header + struct.pack(">I", len(tags)) + table + data


def swapped_rgb_profile() -> bytes:
    """A gamma-2.2 RGB matrix profile whose red and blue primaries are sRGB's blue and red.

    Pixels tagged with it mean the opposite colours of their numbers: a correct conversion to sRGB
    swaps red and blue, an ignored profile does not.
    """
    red, green, blue = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)
    curve = _gamma_curve(2.2)
    return icc_profile(b"RGB ", [
        (b"desc", _desc("Swapped RGB (test)")),
        (b"wtpt", _xyz(*D50)),
        (b"rXYZ", _xyz(*blue)),
        (b"gXYZ", _xyz(*green)),
        (b"bXYZ", _xyz(*red)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text" + b"\0" * 4 + b"public domain\0"),
    ])


def gray_profile(gamma: float, name: str = "Test Gray") -> bytes:
    """A monochrome display profile with a pure gamma ``kTRC``, like the "Gray Gamma 2.2" profile
    Lightroom's greyscale exports carry."""
    return icc_profile(b"GRAY", [
        (b"desc", _desc(name)),
        (b"wtpt", _xyz(*D50)),
        (b"kTRC", _gamma_curve(gamma)),
        (b"cprt", b"text" + b"\0" * 4 + b"public domain\0"),
    ])
