"""Where first boot reads and writes (:class:`Layout`, a root folder in tests), what a run did
(:class:`Result`), and the small system helpers it uses: atomic writes only when the content
changes, best-effort commands."""

from __future__ import annotations

import os
import pwd
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..fsutil import atomic_file
from . import hotspot

SERVICE_USER = "appliance"
UNITS = tuple(f"appliance-{n}.service" for n in ("importer", "publisher", "sync", "gpio", "admin",
                                                 "ftp", "second-copy", "faces"))


@dataclass(frozen=True)
class Layout:
    """Where everything lives, below ``root`` (``/`` on the Pi; a folder in tests)."""

    root: Path = Path("/")

    def _at(self, path: str) -> Path:
        return self.root / path

    @property
    def live(self) -> bool:
        """Running on the real system: also act on the running kernel and services."""
        return self.root == Path("/")

    @property
    def boot_dir(self) -> Path:
        return self._at("boot/firmware")

    @property
    def boot_file(self) -> Path:
        return self.boot_dir / "appliance.toml"

    @property
    def cmdline(self) -> Path:
        return self.boot_dir / "cmdline.txt"

    @property
    def etc(self) -> Path:
        return self._at("etc/appliance")

    @property
    def config_file(self) -> Path:
        return self.etc / "appliance.toml"

    @property
    def bucket_secrets(self) -> Path:
        return self.etc / "bucket-secrets.toml"

    @property
    def vault_dir(self) -> Path:
        return self.etc / "firstboot"

    @property
    def vault(self) -> Path:
        return self.vault_dir / "secrets.toml"

    @property
    def applied(self) -> Path:
        return self.vault_dir / "applied.sha256"

    @property
    def nm_connection(self) -> Path:
        return self._at(f"etc/NetworkManager/system-connections/{hotspot.CONNECTION_ID}.nmconnection")

    @property
    def nm_dnsmasq(self) -> Path:
        return self._at("etc/NetworkManager/dnsmasq-shared.d/appliance.conf")

    @property
    def hostname(self) -> Path:
        return self._at("etc/hostname")

    @property
    def hosts(self) -> Path:
        return self._at("etc/hosts")

    @property
    def rfkill_dir(self) -> Path:
        return self._at("var/lib/systemd/rfkill")

    @property
    def ssd_mount(self) -> Path:
        return self._at("etc/systemd/system/var-lib-appliance.mount")

    def unit_wants(self, unit: str) -> Path:
        return self._at(f"etc/systemd/system/{unit}.requires/var-lib-appliance.mount")


@dataclass
class Result:
    """What one run did; recorded in the store for the LED and the admin."""

    ok: bool
    file: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    applied: bool = False  # the file was applied (False: unchanged since last time, or invalid)
    checked_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


def service_user() -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        return None


def write_if_changed(path: Path, text: str, mode: int, owner: pwd.struct_passwd | None = None,
                     group_only: bool = False) -> bool:
    """Atomically write ``text`` unless the file already holds it; set mode and owner."""
    data = text.encode()
    try:
        same = path.read_bytes() == data
    except OSError:
        same = False
    if not same:
        with atomic_file(path, mode) as handle:
            handle.write(data)
    os.chmod(path, mode)
    if owner is not None and os.geteuid() == 0:
        os.chown(path, 0 if group_only else owner.pw_uid, owner.pw_gid)
    return not same


def run_command(*cmd: str) -> str | None:
    """Run a best-effort system command; the error text, or None when it worked."""
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{cmd[0]}: {exc}"
    return None if result.returncode == 0 else f"{' '.join(cmd)}: {result.stderr.strip()}"


def unit_active(unit: str) -> bool:
    return run_command("systemctl", "is-active", "--quiet", unit) is None


def read_or_empty(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
