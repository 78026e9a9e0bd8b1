"""The second-copy drive: recognised by its label, never imported, mounted read-WRITE for the copier.

The card listener (:mod:`.cards`) leaves a drive labelled ``second_copy.drive_label`` alone (no
import, no read-only switch). :class:`SecondDrive`, the same listener run by the second-copy
service, mounts it read-write (nosuid, nodev, noexec) at ``second_copy.mount_point`` and lets go
when it is pulled. It runs in that service because each service mounts inside its own mount
namespace (``PrivateMounts=yes``): a mount made by the importer would be invisible to the copier.
Labels compare case-insensitively (Windows writes FAT labels in capitals).
"""

from __future__ import annotations

import errno
import logging
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Config
from .block_devices import (
    SUPPORTED_FS,
    BlockEvent,
    Filesystem,
    filesystem_of,
    ignore_reason,
    media_present,
    probe,
    system_disks,
)
from .mounts import (
    KERNEL_TYPES,
    MS_NOATIME,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    FuseMounter,
    MountError,
    _libc,
    _wait_mounted,
    is_mounted,
    release,
    unmount_any,
)

log = logging.getLogger(__name__)

RW_FLAGS = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME
# Kernel options for a writable mount: the card's, less ext4's ``noload`` (a journal is replayed).
RW_OPTIONS = {fs: ("" if kind == "ext4" else options) for fs, (kind, options) in KERNEL_TYPES.items()}
FUSE_RW: dict[str, list[str]] = {
    "vfat": ["fusefat", "-o", "rw+"],
    "exfat": ["mount.exfat-fuse"],
    "ntfs": ["ntfs-3g"],
    "ext4": ["fuse2fs"],
}


def is_second_drive(fs: Filesystem, config: Config) -> bool:
    """Is this filesystem the second-copy drive (by its label)?"""
    label = config.second_copy.drive_label
    return bool(label) and fs.label.casefold() == label.casefold()


class ReadWriteMounter:
    """mount(2) read-write with the kernel's driver, else the FUSE driver."""

    name = "read-write"

    def mount(self, device: str, fs_type: str, target: Path) -> None:
        kind = KERNEL_TYPES.get(fs_type, (fs_type, ""))[0]
        target.mkdir(parents=True, exist_ok=True)
        options = RW_OPTIONS.get(fs_type, "")
        if _libc().mount(device.encode(), str(target).encode(), kind.encode(), RW_FLAGS,
                         options.encode() or None) == 0:
            return
        import ctypes

        code = ctypes.get_errno()
        command = FUSE_RW.get(fs_type)
        if code != errno.ENODEV or command is None or not FuseMounter().available(fs_type):
            raise MountError(code, f"cannot mount {device} ({kind}) read-write: {errno.errorcode.get(code)}")
        try:
            result = subprocess.run([*command, device, str(target)], capture_output=True, text=True,
                                    timeout=30)
        except subprocess.TimeoutExpired as exc:
            raise MountError(errno.ETIMEDOUT, f"{command[0]} did not answer in 30 s") from exc
        if result.returncode != 0 or not _wait_mounted(target):
            raise MountError(errno.EIO, f"{command[0]} failed: {result.stderr.strip()}")

    def unmount(self, target: Path, lazy: bool = False) -> None:
        unmount_any(target, lazy)


class SecondDrive:
    """Keeps the labelled drive mounted read-write at ``second_copy.mount_point`` while present."""

    def __init__(self, config: Config, mounter: Any = None,
                 prober: Callable[[str], Filesystem | None] = probe) -> None:
        self.config = config
        self.target = config.second_copy.mount_point
        self.mounter = mounter or ReadWriteMounter()
        self.prober = prober
        self.node: str | None = None  # the device mounted now
        self.problem = ""  # why the drive is not mounted although it is there (for people)
        self.monitor: Any = None
        self.lock = threading.Lock()

    @property
    def present(self) -> bool:
        return self.node is not None and is_mounted(self.target)

    def start(self) -> None:
        """Let go of a mount left by a previous run, listen for drives, look at those present."""
        release(self.mounter, self.target)
        import pyudev

        context = pyudev.Context()
        source = "udev" if Path("/run/udev/control").exists() else "kernel"
        self.monitor = pyudev.Monitor.from_netlink(context, source=source)
        self.monitor.filter_by("block")
        self.monitor.start()
        for device in context.list_devices(subsystem="block"):
            self.handle(BlockEvent.from_device(device, action="add"))

    def poll(self, timeout: float) -> None:
        """Handle drive events for up to ``timeout`` seconds."""
        if self.monitor is None:
            time.sleep(timeout)
            return
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            device = self.monitor.poll(timeout=left)
            if device is None:
                break
            self.handle(BlockEvent.from_device(device))

    def handle(self, event: BlockEvent) -> None:
        """Mount the labelled drive when it arrives, let go of it when it leaves."""
        with self.lock:
            if event.node == self.node and (event.action == "remove" or not media_present(event.sys_name)):
                log.warning("second-copy drive %s went away", event.node)
                self.gone()
                return
            if event.action not in ("add", "change") or self.node is not None:
                return
            if not media_present(event.sys_name) or ignore_reason(event, self.config,
                                                                 system_disks(self.config)):
                return
            fs = filesystem_of(event, self.prober)
            if fs is None or fs.type not in SUPPORTED_FS or not is_second_drive(fs, self.config):
                return
            try:
                self.mounter.mount(event.node, fs.type, self.target)
            except MountError as exc:
                self.problem = f"cannot mount {event.node}: {exc.strerror or exc}"
                log.error("second-copy drive: %s", self.problem)
                return
            self.node, self.problem = event.node, ""
            log.info("second-copy drive %s (%s %s) mounted read-write at %s", fs.label, fs.type,
                     event.node, self.target)

    def gone(self) -> None:
        """Unmount (lazily if busy) and forget the drive."""
        release(self.mounter, self.target)
        self.node = None

    def stop(self) -> None:
        with self.lock:
            if self.node is not None:
                self.gone()
