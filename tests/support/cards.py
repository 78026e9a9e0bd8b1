"""Real card images for the ingest tests: FAT (mtools), exFAT (exfat-fuse), ext4 (mke2fs -d),
attached as loop devices so the kernel announces them like a card reader would."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest

TOOLS = ["losetup", "blkid", "mkfs.vfat", "mcopy", "mkfs.exfat", "mount.exfat-fuse", "fusefat",
         "fusermount", "mke2fs"]
MIB = 1024 * 1024


def require_card_images() -> None:
    """Skip unless this machine can attach loop devices and run FUSE (root, /dev/fuse)."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"missing tools (apt: fusefat exfat-fuse dosfstools exfatprogs mtools): {missing}")
    if os.geteuid() != 0 or not Path("/dev/fuse").exists() or not Path("/dev/loop-control").exists():
        pytest.skip("needs root, /dev/fuse and loop devices")


def _run(*command: str, **kwargs) -> subprocess.CompletedProcess:  # noqa: ANN003
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def fat_image(image: Path, tree: Path, size_mb: int = 64, volume_id: str = "1234ABCD",
              label: str = "CANON", partitioned: bool = False) -> Path:
    """A FAT32 card image holding ``tree`` (with an MBR partition table when ``partitioned``)."""
    image.parent.mkdir(parents=True, exist_ok=True)
    with open(image, "wb") as handle:
        handle.truncate(size_mb * MIB)
    offset = 2048 if partitioned else 0
    if partitioned:
        sectors = size_mb * MIB // 512
        entry = struct.pack("<B3sB3sII", 0, b"\x00\x02\x00", 0x0C, b"\xfe\xff\xff", offset,
                            sectors - offset)
        with open(image, "r+b") as handle:
            handle.seek(446)
            handle.write(entry)
            handle.seek(510)
            handle.write(b"\x55\xaa")
    # FAT16 with ~8000 clusters of 8-32 KiB, like a camera-formatted card (fusefat walks the
    # cluster chain on every read: tiny clusters would make big files crawl)
    per_cluster = 1 << max(0, (size_mb * MIB // 512 // 8000).bit_length() - 1)
    _run("mkfs.vfat", "-F", "16", "-s", str(per_cluster), "--offset", str(offset), "-i", volume_id,
         "-n", label, str(image), str((size_mb * MIB - offset * 512) // 1024))
    target = f"{image}@@{offset * 512}" if partitioned else str(image)
    entries = sorted(tree.iterdir())
    if entries:
        _run("mcopy", "-s", "-m", "-i", target, *map(str, entries), "::/",
             env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})
    return image


def ext4_image(image: Path, tree: Path, size_mb: int = 64, label: str = "SSD") -> Path:
    image.parent.mkdir(parents=True, exist_ok=True)
    with open(image, "wb") as handle:
        handle.truncate(size_mb * MIB)
    _run("mke2fs", "-q", "-t", "ext4", "-L", label, "-d", str(tree), str(image))
    return image


def exfat_image(image: Path, tree: Path, size_mb: int = 64, label: str = "SONY") -> Path:
    """An exFAT image, filled through exfat-fuse (mounted read-write only while building it)."""
    image.parent.mkdir(parents=True, exist_ok=True)
    with open(image, "wb") as handle:
        handle.truncate(size_mb * MIB)
    _run("mkfs.exfat", "-L", label, str(image))
    loop = attach(image)
    mount = image.parent / f".build-{image.stem}"
    mount.mkdir()
    try:
        _run("mount.exfat-fuse", loop, str(mount))
        try:
            for entry in tree.iterdir():
                if entry.is_dir():
                    shutil.copytree(entry, mount / entry.name, copy_function=shutil.copy)
                else:
                    shutil.copy(entry, mount / entry.name)
        finally:
            _run("fusermount", "-u", str(mount))
    finally:
        detach(loop)
        mount.rmdir()
    return image


def attach(image: Path, partitions: bool = False) -> str:
    """Attach an image as a loop device (the kernel sends a block 'change' event)."""
    args = ["losetup", "-f", "--show", *(["-P"] if partitions else []), str(image)]
    return _run(*args).stdout.strip()


def detach(loop: str) -> None:
    subprocess.run(["losetup", "-d", loop], capture_output=True)


def read_only_flag(loop: str) -> bool:
    return Path(f"/sys/class/block/{Path(loop).name}/ro").read_text().strip() == "1"


def wait_for(check, timeout: float, what: str, interval: float = 0.05):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def copying(folder: Path, min_bytes: int) -> bool:
    """Is a copy in progress in ``folder`` (an ``.ingest-*`` temp file of at least min_bytes)?"""
    for temp in folder.glob(".ingest-*"):
        try:
            if temp.stat().st_size >= min_bytes:
                return True
        except FileNotFoundError:
            continue  # renamed into place meanwhile
    return False
