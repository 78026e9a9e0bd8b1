"""Shared helpers for the config/store/importer/pipeline/publisher tests (no fixtures here)."""

from __future__ import annotations

import hashlib
import io
import struct
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

from appliance import config as config_mod
from appliance.config import Config

# The repository sits at /work/main (or a worktree /work/wt/issue-N), the shared test data at /work/shared.
_CAMERA_SAMPLES = Path("shared") / "testdata" / "camera-samples"
SAMPLES = next((p / _CAMERA_SAMPLES for p in Path(__file__).resolve().parents[2:]
                if (p / _CAMERA_SAMPLES).is_dir()), Path(__file__).resolve().parents[3] / _CAMERA_SAMPLES)


def sample(relative: str) -> Path:
    """A real camera JPEG from the shared samples; skips the test when the samples are absent."""
    path = SAMPLES / relative
    if not path.is_file():
        pytest.skip(f"camera sample {relative} not found under {SAMPLES} (shared test data missing)")
    return path


def samples(pattern: str) -> list[Path]:
    """Sample files matching a glob (relative to the samples folder); skips when none exist."""
    found = sorted(SAMPLES.glob(pattern)) if SAMPLES.is_dir() else []
    if not found:
        pytest.skip(f"no camera samples matching {pattern} under {SAMPLES}")
    return found


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    """Every file under ``root`` with its sha256, size and mtime (ns): to prove nothing changed."""
    result: dict[str, tuple[str, int, int]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            st = path.stat()
            result[str(path.relative_to(root))] = (sha256(path), st.st_size, st.st_mtime_ns)
        elif path.is_dir():
            result[str(path.relative_to(root)) + "/"] = ("dir", 0, path.stat().st_mtime_ns)
    return result


def make_config(tmp_path: Path, extra: str = "") -> Config:
    """A Config whose data_root is ``tmp_path/data`` (built with the real parser)."""
    text = f'[paths]\ndata_root = "{tmp_path / "data"}"\n{extra}'
    return config_mod.parse(text)


def write_config(tmp_path: Path, extra: str = "", name: str = "appliance.toml") -> Path:
    """Write a config file for the CLI with data_root inside ``tmp_path``."""
    path = tmp_path / name
    path.write_text(f'[paths]\ndata_root = "{tmp_path / "data"}"\n{extra}')
    return path


def jpeg_bytes(image: Image.Image, **save: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **save)
    return buffer.getvalue()


def save_jpeg(path: Path, image: Image.Image, **save: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    save.setdefault("quality", 95)
    image.save(path, "JPEG", **save)
    return path


def mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute per-channel difference (0..255) of two same-size images."""
    assert a.size == b.size, (a.size, b.size)
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    return sum(ImageStat.Stat(diff).mean) / 3


def mean_brightness(image: Image.Image) -> float:
    return sum(ImageStat.Stat(image.convert("RGB")).mean) / 3


def gray_icc_profile(gamma: float, name: str = "Test Gray") -> bytes:
    """A minimal ICC v2 monochrome display profile (D50 white, pure gamma ``kTRC``).

    Pillow's ImageCms can only create sRGB/LAB/XYZ profiles; greyscale exports (Lightroom's
    "Gray Gamma 2.2", for instance) carry profiles like this one.
    """

    def s15(x: float) -> bytes:
        return struct.pack(">i", round(x * 65536))

    d50 = s15(0.9642) + s15(1.0) + s15(0.8249)
    text = name.encode("ascii")
    desc = (b"desc" + bytes(4) + struct.pack(">I", len(text) + 1) + text + b"\0"
            + bytes(8) + bytes(3) + bytes(67))
    tags = [
        (b"desc", desc),
        (b"wtpt", b"XYZ " + bytes(4) + d50),
        (b"kTRC", b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256))),
        (b"cprt", b"text" + bytes(4) + b"public domain\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = struct.pack(">I", len(tags)), b""
    for signature, body in tags:
        body += bytes(-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = (struct.pack(">I", offset + len(data)) + bytes(4) + bytes([2, 0x10, 0, 0])
              + b"mntrGRAYXYZ " + bytes(12) + b"acsp" + bytes(28) + d50 + bytes(48))
    assert len(header) == 128
    return header + table + data
