"""Debian bookworm booted with systemd as PID 1 in ``systemd-nspawn``, for the boot and image tests.

The debootstrapped rootfs and the wheels of the appliance and its dependencies are cached outside
the repository (built on first use, shared between worktrees under a lock).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("APPLIANCE_TEST_CACHE", "/var/cache/appliance-test"))
MIRROR = os.environ.get("APPLIANCE_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# What install-appliance.sh needs, preinstalled so the install runs offline (x86: pillow-simd's libs).
INCLUDE = ("systemd,systemd-sysv,libpam-systemd,dbus,polkitd,python3,python3-venv,ca-certificates,"
           "libjpeg62-turbo,libtiff6,libwebp7,libwebpmux3,libwebpdemux2,liblcms2-2,libfreetype6,libxcb1")
ROOTFS_TAR = CACHE / "bookworm-rootfs.tar"
WHEELHOUSE = CACHE / "wheelhouse"
# appliance-<name>.service
SERVICES = ("importer", "publisher", "sync", "gpio", "admin", "ftp", "second-copy", "faces")
# How the boot tests wait (support.polling.wait_for): slowly, and a system still booting (the admin
# refusing connections, a unit property not there yet, half an answer) means "not yet".
BOOTING = {"every": 0.5, "ignoring": (requests.RequestException, KeyError, ValueError)}


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Serialise cache builds between test runs of several worktrees."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def rootfs_tarball() -> Path:
    """The cached debootstrap of bookworm (rebuilt when the package list changes)."""
    stamp = ROOTFS_TAR.with_suffix(".include")
    with locked(CACHE / ".rootfs.lock"):
        if ROOTFS_TAR.exists() and stamp.exists() and stamp.read_text() == INCLUDE:
            return ROOTFS_TAR
        build = CACHE / f"rootfs-build-{os.getpid()}"
        shutil.rmtree(build, ignore_errors=True)
        try:
            subprocess.run(["debootstrap", "--variant=minbase", f"--include={INCLUDE}", "bookworm",
                            str(build), MIRROR], check=True, capture_output=True, timeout=900)
            partial = ROOTFS_TAR.with_suffix(".partial")
            subprocess.run(["tar", "-C", str(build), "--numeric-owner", "-cf", str(partial), "."],
                           check=True, timeout=300)
            partial.replace(ROOTFS_TAR)
            stamp.write_text(INCLUDE)
        finally:
            shutil.rmtree(build, ignore_errors=True)
    return ROOTFS_TAR


def wheelhouse(into: Path) -> Path:
    """Wheels for the appliance (built from this tree) and every runtime dependency, copied into
    ``into`` under the lock: other worktrees may rebuild the shared cache while this run installs."""
    with locked(CACHE / ".wheelhouse.lock"):
        WHEELHOUSE.mkdir(parents=True, exist_ok=True)
        for old in WHEELHOUSE.glob("appliance-*.whl"):
            old.unlink()
        built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(WHEELHOUSE),
                                str(ROOT)], capture_output=True, text=True, timeout=900)
        assert built.returncode == 0, built.stdout + built.stderr
        into.mkdir(parents=True, exist_ok=True)
        for wheel in WHEELHOUSE.glob("*.whl"):
            shutil.copy(wheel, into / wheel.name)
    return into


def nspawn(rootfs: Path, *args: str) -> list[str]:
    # --keep-unit/--register=no: no machined or host systemd needed (the host may not run systemd).
    return ["systemd-nspawn", "-q", "-D", str(rootfs), "--keep-unit", "--register=no", *args]


class Container:
    """A booted rootfs; commands run inside through nsenter into PID 1's namespaces."""

    def __init__(self, rootfs: Path, log: Path) -> None:
        self.log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(nspawn(rootfs, "--console=read-only", "-b"), stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pid1 = self._find_init()

    def _find_init(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"systemd-nspawn exited with {self.proc.returncode}")
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                comm = stat[stat.index("(") + 1:stat.rindex(")")]
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if ppid == self.proc.pid and comm == "systemd":
                    return int(entry.name)
            time.sleep(0.1)
        raise AssertionError("the container's systemd did not start")

    def run(self, *cmd: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["nsenter", "-t", str(self.pid1), "-m", "-u", "-i", "-n", "-p", "-r", "-w", "--",
             "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_COLORS=0",
             "SYSTEMD_PAGER=", *cmd],
            capture_output=True, text=True, timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout}\n"
                                 f"{result.stderr}")
        return result

    def show(self, unit: str) -> dict[str, str]:
        out = self.run("systemctl", "show", unit, "--property=ActiveState,SubState,StatusText,"
                       "NRestarts,Result,MainPID", check=False).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.run("systemctl", "poweroff", "--no-block", check=False)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(timeout=30)
        self.log.close()
