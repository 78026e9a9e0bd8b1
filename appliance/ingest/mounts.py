"""Mount cards read-only and never write to them.

Two layers keep the card untouched: the block device is switched to read-only in the kernel
(``BLKROSET``, what ``blockdev --setro`` does) before anything mounts it, and the filesystem is
mounted with ``MS_RDONLY`` (ext4 also with ``noload``, so a dirty journal is not replayed).

:class:`KernelMounter` calls mount(2) directly, as the importer service holds ``CAP_SYS_ADMIN``
(util-linux ``mount`` refuses non-root callers); exFAT uses the kernel's own driver.
:class:`FuseMounter` runs ``fusefat`` / ``exfat-fuse`` for kernels without a driver (this test
machine has no vfat or exfat). :class:`AutoMounter` tries the kernel, then FUSE. Any object with
the same ``mount``/``unmount`` methods can replace them (tests use a plain folder).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import logging
import os
import shutil
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_NOATIME = 0x1, 0x2, 0x4, 0x8, 0x400
MNT_DETACH = 0x2
BLKROSET = 0x125D  # _IO(0x12, 93)
MOUNT_FLAGS = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME
# filesystem (as blkid names it) -> kernel type and read-only friendly options
KERNEL_TYPES: dict[str, tuple[str, str]] = {
    "vfat": ("vfat", "utf8,shortname=mixed,fmask=0133,dmask=0022"),
    "exfat": ("exfat", "iocharset=utf8,fmask=0133,dmask=0022"),
    "ext4": ("ext4", "noload"),
    "ntfs": ("ntfs3", ""),
    "ntfs3": ("ntfs3", ""),
}
FUSE_COMMANDS: dict[str, list[str]] = {
    "vfat": ["fusefat", "-o", "ro"],
    "exfat": ["mount.exfat-fuse", "-o", "ro"],
    "ntfs": ["ntfs-3g", "-o", "ro"],
    "ext4": ["fuse2fs", "-o", "ro"],
}


class MountError(OSError):
    """A card could not be mounted (the message says why, for the admin)."""


class Mounter(Protocol):
    name: str

    def mount(self, device: str, fs_type: str, target: Path) -> None: ...

    def unmount(self, target: Path, lazy: bool = False) -> None: ...


@dataclass(frozen=True)
class MountEntry:
    source: str
    target: Path
    fs_type: str


def mount_table() -> list[MountEntry]:
    """This process's mounts, from /proc/self/mountinfo."""
    entries = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 2:
            continue
        entries.append(MountEntry(_unescape(tail[1]), Path(_unescape(fields[4])), tail[0]))
    return entries


def _unescape(text: str) -> str:
    return text.encode().decode("unicode_escape") if "\\" in text else text


def is_mounted(target: Path) -> bool:
    return any(entry.target == target for entry in mount_table())


def set_read_only(device: str, read_only: bool = True) -> bool:
    """Switch the block device read-only in the kernel (or back once unmounted); False when not
    permitted or not a device."""
    try:
        fd = os.open(device, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        if read_only:
            log.warning("cannot open %s to make it read-only: %s", device, exc.strerror)
        return False
    try:
        fcntl.ioctl(fd, BLKROSET, struct.pack("i", 1 if read_only else 0))
        return True
    except OSError as exc:
        if read_only:
            log.warning("cannot make %s read-only (%s); relying on a read-only mount", device,
                        exc.strerror)
        return False
    finally:
        os.close(fd)


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                           ctypes.c_char_p]
    libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    return libc


class KernelMounter:
    """mount(2) with the kernel's own drivers (the Pi: vfat, exfat, ext4, ntfs3)."""

    name = "kernel"

    def __init__(self) -> None:
        self.libc = _libc()

    def mount(self, device: str, fs_type: str, target: Path) -> None:
        kind, options = KERNEL_TYPES.get(fs_type, (fs_type, ""))
        target.mkdir(parents=True, exist_ok=True)
        result = self.libc.mount(device.encode(), str(target).encode(), kind.encode(),
                                 MOUNT_FLAGS, options.encode() or None)
        if result != 0:
            code = ctypes.get_errno()
            if code == errno.ENODEV:
                raise MountError(code, f"this kernel has no {kind} driver")
            if code == errno.EPERM:
                raise MountError(code, "not allowed to mount (the importer needs CAP_SYS_ADMIN)")
            raise MountError(code, f"cannot mount {device} ({kind}): {os.strerror(code)}")

    def unmount(self, target: Path, lazy: bool = False) -> None:
        if self.libc.umount2(str(target).encode(), MNT_DETACH if lazy else 0) != 0:
            code = ctypes.get_errno()
            raise MountError(code, f"cannot unmount {target}: {os.strerror(code)}")


class FuseMounter:
    """fusefat / exfat-fuse / ntfs-3g / fuse2fs in read-only mode."""

    name = "fuse"

    def available(self, fs_type: str) -> bool:
        command = FUSE_COMMANDS.get(fs_type)
        return bool(command) and shutil.which(command[0]) is not None

    def mount(self, device: str, fs_type: str, target: Path) -> None:
        if not self.available(fs_type):
            raise MountError(errno.ENODEV, f"no FUSE driver for {fs_type} is installed")
        target.mkdir(parents=True, exist_ok=True)
        command = [*FUSE_COMMANDS[fs_type], device, str(target)]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        except subprocess.TimeoutExpired as exc:
            raise MountError(errno.ETIMEDOUT, f"{command[0]} did not answer") from exc
        if result.returncode != 0 or not _wait_mounted(target):
            message = (result.stderr or result.stdout).strip().splitlines()
            raise MountError(errno.EIO, f"{command[0]} failed: {message[-1] if message else ''}")

    def unmount(self, target: Path, lazy: bool = False) -> None:
        tool = shutil.which("fusermount3") or shutil.which("fusermount") or "fusermount"
        command = [tool, "-u", *(["-z"] if lazy else []), str(target)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise MountError(errno.EBUSY, f"cannot unmount {target}: {result.stderr.strip()}")


class AutoMounter:
    """The kernel's driver when it has one, else the FUSE driver."""

    name = "auto"

    def __init__(self) -> None:
        self.kernel = KernelMounter()
        self.fuse = FuseMounter()

    def mount(self, device: str, fs_type: str, target: Path) -> None:
        try:
            self.kernel.mount(device, fs_type, target)
        except MountError as exc:
            if exc.errno != errno.ENODEV or not self.fuse.available(fs_type):
                raise
            log.info("no kernel driver for %s: mounting %s with FUSE", fs_type, device)
            self.fuse.mount(device, fs_type, target)

    def unmount(self, target: Path, lazy: bool = False) -> None:
        unmount_any(target, lazy)


def unmount_any(target: Path, lazy: bool = False) -> None:
    """Unmount whatever is at ``target`` with the right tool for its type."""
    fs_type = next((e.fs_type for e in mount_table() if e.target == target), None)
    if fs_type is None:
        return
    if fs_type.startswith("fuse"):
        FuseMounter().unmount(target, lazy)
    else:
        KernelMounter().unmount(target, lazy)


def release(mounter: Mounter, target: Path, attempts: int = 5) -> None:
    """Unmount (retrying while busy, then lazily) and remove the mount point."""
    for attempt in range(attempts):
        if not is_mounted(target):
            break
        try:
            mounter.unmount(target, lazy=attempt == attempts - 1)
        except MountError as exc:
            log.info("unmount of %s: %s", target, exc)
            time.sleep(0.2 * (attempt + 1))
    with contextlib.suppress(OSError):
        target.rmdir()


def _wait_mounted(target: Path, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_mounted(target):
            return True
        time.sleep(0.02)
    return False


def make_mounter(mode: str) -> Mounter:
    """The mounter for ``importer.mount`` (auto, kernel or fuse)."""
    return {"auto": AutoMounter, "kernel": KernelMounter, "fuse": FuseMounter}[mode]()
