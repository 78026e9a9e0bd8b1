"""Which block devices are cards: udev events, filesystem probing, the system disk, loop images.

A device is a card when it carries a supported filesystem, is not on the system disk (or any disk
with a filesystem we did not mount), and is not a loop device, unless backed by an image file
inside ``importer.card_images`` (tests, demos).
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config
from .mounts import mount_table

log = logging.getLogger(__name__)

SUPPORTED_FS = {"vfat", "exfat", "ext4", "ntfs", "ntfs3"}
NOT_CARDS = re.compile(r"^(ram|zram|dm-|md|sr|nbd|mtdblock|fd|mmcblk\d+boot|mmcblk\d+rpmb)")
SYS_BLOCK = Path("/sys/class/block")


@dataclass(frozen=True)
class BlockEvent:
    """A block-device event, decoupled from pyudev (tests build these by hand)."""

    action: str
    node: str
    sys_name: str
    properties: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_device(cls, device: Any, action: str | None = None) -> BlockEvent:
        """From a :class:`pyudev.Device` (``action`` for devices enumerated at start-up)."""
        props = {str(k): str(v) for k, v in device.properties.items()}
        return cls(action or device.action or "add", device.device_node or "", device.sys_name,
                   props)


@dataclass(frozen=True)
class Filesystem:
    type: str
    uuid: str
    label: str


def probe(node: str) -> Filesystem | None:
    """The filesystem on a device by a low-level, read-only ``blkid -p`` probe; None if none."""
    try:
        result = subprocess.run(["blkid", "-p", "-o", "export", "--", node], capture_output=True,
                                text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("cannot probe %s: %s", node, exc)
        return None
    values = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    if result.returncode != 0 or values.get("USAGE", "filesystem") != "filesystem":
        return None
    if not values.get("TYPE"):
        return None
    return Filesystem(values["TYPE"], values.get("UUID", ""), values.get("LABEL", ""))


def filesystem_of(event: BlockEvent, prober: Callable[[str], Filesystem | None] = probe
                  ) -> Filesystem | None:
    """From udev's properties when udevd probed it, else by probing ourselves."""
    props = event.properties
    if props.get("ID_FS_TYPE"):
        if props.get("ID_FS_USAGE", "filesystem") != "filesystem":
            return None
        return Filesystem(props["ID_FS_TYPE"], props.get("ID_FS_UUID", ""),
                          props.get("ID_FS_LABEL", ""))
    return prober(event.node)


def disk_of(sys_name: str) -> str:
    """The whole disk a partition belongs to (``sda1`` -> ``sda``)."""
    entry = SYS_BLOCK / sys_name
    if (entry / "partition").exists():
        return entry.resolve().parent.name
    return sys_name


def _device_name(dev: int) -> str | None:
    link = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}")
    return link.resolve().name if link.exists() else None


def system_disks(config: Config) -> set[str]:
    """Disks that must never be treated as cards: they hold the system or our data folders, or
    some filesystem mounted by someone other than us."""
    disks: set[str] = set()
    paths = [Path("/"), Path("/boot"), Path("/boot/firmware")]
    paths += [config.folder(name) for name in ("buffer", "archive", "state")]
    for path in paths:
        try:
            name = _device_name(path.stat().st_dev)
        except OSError:
            continue
        if name:
            disks.add(disk_of(name))
    root = config.importer.mount_root
    for entry in mount_table():
        if entry.source.startswith("/dev/") and not entry.target.is_relative_to(root):
            try:
                name = _device_name(os.stat(entry.source).st_rdev)
            except OSError:
                continue
            if name:
                disks.add(disk_of(name))
    return disks


def ignore_reason(event: BlockEvent, config: Config, system: set[str]) -> str | None:
    """Why a device is not a card, from cheap facts only (no probing)."""
    name = event.sys_name
    if not event.node:
        return "no device node"
    if NOT_CARDS.match(name):
        return "not a removable card"
    if name.startswith("loop") and not is_card_image(name, config.importer.card_images):
        return "loop device"
    if disk_of(name) in system:
        return "system disk"
    if event.properties.get("DEVTYPE") not in (None, "disk", "partition"):
        return "not a disk"
    return None


def is_card_image(sys_name: str, folder: Path | None) -> bool:
    """Is this loop device (or its partition) backed by an image file inside ``folder``?"""
    if folder is None:
        return False
    try:
        backing = (SYS_BLOCK / disk_of(sys_name) / "loop" / "backing_file").read_text().strip()
    except OSError:
        return False
    return Path(backing).is_relative_to(folder.resolve())


def media_present(sys_name: str) -> bool:
    """False when the reader reports no medium (size 0), e.g. the card was pulled."""
    try:
        return int((SYS_BLOCK / sys_name / "size").read_text()) > 0
    except (OSError, ValueError):
        return False


def mount_dir_name(fs: Filesystem, sys_name: str) -> str:
    raw = fs.uuid or f"{fs.label or 'card'}-{sys_name}"
    return re.sub(r"[^A-Za-z0-9_-]", "_", raw)[:64]
