"""Cards for the ingest tests: folders laid out like a camera's card (two cameras, a messy card, RAW
stand-ins), and real card images (FAT with mtools, exFAT with exfat-fuse, ext4 with mke2fs -d)
attached as loop devices so the kernel announces them like a card reader would."""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest


# -- folders standing in for cards --------------------------------------------------------------
def raw_standin(dest: Path, seed: str, size: int = 300_000) -> Path:
    """A RAW stand-in: a TIFF-like header and deterministic bytes (RAW is archived, not decoded)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    block = hashlib.sha256(seed.encode()).digest()
    dest.write_bytes(b"II*\x00" + (block * (size // len(block) + 1))[: size - 4])
    return dest


def gps_card(card: Path, samples: Path) -> Path:
    """A card holding the nine GPS-tagged samples in DCIM/100; returns that folder."""
    folder = card / "DCIM" / "100"
    folder.mkdir(parents=True)
    for photo in sorted((samples / "gps").glob("*.jpg")):
        shutil.copy2(photo, folder / photo.name)
    return folder


def two_cameras(root: Path, samples: Path) -> tuple[Path, Path]:
    """Two cards whose cameras both wrote IMG_0001.JPG and IMG_0002.JPG (different photos)."""
    a, b = root / "card-a", root / "card-b"
    gps = sorted((samples / "gps").glob("*.jpg"))
    for card, folder, photos in ((a, "100CANON", gps[:2]), (b, "100NIKON", gps[2:4])):
        for number, photo in enumerate(photos, start=1):
            target = card / "DCIM" / folder / f"IMG_{number:04d}.JPG"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(photo, target)
    return a, b


def messy_card(card: Path, samples: Path) -> dict[str, str]:
    """A card with everything that must be skipped; returns {relative path: expected reason}."""
    dcim = card / "DCIM" / "100CANON"
    dcim.mkdir(parents=True, exist_ok=True)
    good = samples / "gps" / "DSCN0021.jpg"
    shutil.copy2(good, dcim / "IMG_0100.JPG")
    truncated = good.read_bytes()
    (dcim / "IMG_0101.JPG").write_bytes(truncated[: len(truncated) // 2])
    (dcim / "IMG_0102.JPG").write_bytes(b"")
    (dcim / "IMG_0103.JPG").write_text("this is not a photo\n")
    (dcim / "._IMG_0100.JPG").write_bytes(b"\x00\x05\x16\x07" + b"\x00" * 4000)
    (dcim / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + b"\x00" * 100)
    (dcim / "IMG_0104.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 1000)
    (dcim / "MVI_0105.MP4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 1000)
    (dcim / "NOTES.TXT").write_text("shoot list\n")
    (card / "DCIM" / ".Trashes").mkdir()
    (card / "DCIM" / ".Trashes" / "IMG_0001.JPG").write_bytes(good.read_bytes())
    (card / "DCIM" / "System Volume Information").mkdir()
    (card / "DCIM" / "System Volume Information" / "IndexerVolumeGuid").write_text("{x}")
    return {
        "DCIM/100CANON/IMG_0101.JPG": "corrupt or truncated JPEG",
        "DCIM/100CANON/IMG_0102.JPG": "empty file (0 bytes)",
        "DCIM/100CANON/IMG_0103.JPG": "not a JPEG (content does not start with a JPEG marker)",
        "DCIM/100CANON/._IMG_0100.JPG": "macOS metadata file (._*)",
        "DCIM/100CANON/.DS_Store": "system file",
        "DCIM/100CANON/IMG_0104.HEIC": "corrupt or truncated HEIC/HEIF",
        "DCIM/100CANON/MVI_0105.MP4": "video (.mp4), not imported",
        "DCIM/100CANON/NOTES.TXT": "not a photo (.txt)",
        "DCIM/.Trashes": "hidden or system folder",
        "DCIM/System Volume Information": "hidden or system folder",
    }


# -- card images on loop devices ----------------------------------------------------------------
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


def copying(folder: Path, min_bytes: int) -> bool:
    """Is a copy in progress in ``folder`` (an ``.ingest-*`` temp file of at least min_bytes)?"""
    for temp in folder.glob(".ingest-*"):
        try:
            if temp.stat().st_size >= min_bytes:
                return True
        except FileNotFoundError:
            continue  # renamed into place meanwhile
    return False
