"""The system settings first boot applies: the hotspot and Wi-Fi country, the hostname, the SSD mount."""

from __future__ import annotations

import socket

from ..fsutil import atomic_file
from . import hotspot
from .boot_layout import UNITS, Layout, Result, read_or_empty, run_command, unit_active, write_if_changed
from .bootfile import BootSettings


def apply_access(layout: Layout, settings: BootSettings, vault: dict[str, str], result: Result) -> None:
    """With errors elsewhere in the file, still bring up a valid access point and hostname: the
    phone must be able to join and read in the admin what to fix."""
    own = ("wifi.", "[wifi]", "system.", "[system]")
    if any(error.startswith(own) for error in result.errors):
        return
    if settings.wifi is not None and "wifi_passphrase" not in vault:
        return
    apply_network(layout, settings, vault, result)
    apply_hostname(layout, settings.system.hostname, result)


def apply_network(layout: Layout, settings: BootSettings, vault: dict[str, str], result: Result) -> None:
    wifi = settings.wifi
    if wifi is None:
        for path in (layout.nm_connection, layout.nm_dnsmasq):
            if path.exists():
                path.unlink()
                result.changed.append(f"{path} (removed: wifi.enabled = false)")
        return
    profile = hotspot.keyfile(wifi, vault["wifi_passphrase"])
    changed = write_if_changed(layout.nm_connection, profile, 0o600)
    if write_if_changed(layout.nm_dnsmasq, hotspot.dnsmasq_conf(settings.system.hostname, wifi), 0o644):
        changed = True
        result.changed.append(str(layout.nm_dnsmasq))
    if changed:
        result.changed.append(str(layout.nm_connection))
    if layout.cmdline.exists():
        cmdline = layout.cmdline.read_text()
        new = hotspot.cmdline_with_regdom(cmdline, wifi.country)
        if new.split() != cmdline.split():
            with atomic_file(layout.cmdline, 0o755) as handle:
                handle.write(new.encode())
            result.changed.append(f"{layout.cmdline} (Wi-Fi country {wifi.country})")
    # Raspberry Pi OS keeps Wi-Fi soft-blocked until a country is set: unblock it for next boots.
    if layout.rfkill_dir.is_dir():
        for state in layout.rfkill_dir.glob("*:wlan"):
            if state.read_text().strip() != "0":
                state.write_text("0\n")
    if layout.live:
        for cmd in (("iw", "reg", "set", wifi.country), ("rfkill", "unblock", "wifi")):
            error = run_command(*cmd)
            if error and "No such file" not in error:
                result.warnings.append(error)
        if changed and unit_active("NetworkManager.service"):
            error = run_command("nmcli", "connection", "reload")
            if error:
                result.warnings.append(error)


def apply_hostname(layout: Layout, hostname: str, result: Result) -> None:
    if write_if_changed(layout.hostname, hostname + "\n", 0o644):
        result.changed.append(f"{layout.hostname} ({hostname})")
    lines = read_or_empty(layout.hosts).splitlines()
    wanted = f"127.0.1.1\t{hostname}"
    kept = [line for line in lines if not line.startswith("127.0.1.1")]
    new = "\n".join([*kept, wanted]) + "\n" if kept else f"127.0.0.1\tlocalhost\n{wanted}\n"
    if write_if_changed(layout.hosts, new, 0o644):
        result.changed.append(str(layout.hosts))
    if layout.live and socket.gethostname() != hostname:
        try:
            socket.sethostname(hostname)
        except OSError as exc:
            result.warnings.append(f"could not set the hostname now: {exc} (it applies at next boot)")
        if unit_active("avahi-daemon.service"):
            run_command("systemctl", "--no-block", "try-restart", "avahi-daemon.service")


def apply_ssd(layout: Layout, device: str, result: Result) -> None:
    """Mount the SSD on /var/lib/appliance (the services' only writable place) when configured."""
    links = [layout.unit_wants(unit) for unit in UNITS]
    if not device:
        if layout.ssd_mount.exists():
            layout.ssd_mount.unlink()
            for link in links:
                link.unlink(missing_ok=True)
            result.changed.append(f"{layout.ssd_mount} (removed)")
        return
    what = device if device.startswith("/dev/") else "/dev/disk/by-{}/{}".format(
        *[part.lower() if i == 0 else part for i, part in enumerate(device.split("=", 1))])
    unit = "\n".join([
        "# Written by `appliance firstboot` (system.ssd in the boot partition's appliance.toml).",
        "[Unit]",
        "Description=Event gallery appliance: photos and store on the external SSD",
        f"Before={' '.join(UNITS)}",
        "",
        "[Mount]",
        f"What={what}",
        "Where=/var/lib/appliance",
        # noatime: no write per read; the services wait up to 30 s for the disk to show up.
        "Options=noatime,x-systemd.device-timeout=30s",
        "",
    ])
    if write_if_changed(layout.ssd_mount, unit, 0o644):
        result.changed.append(f"{layout.ssd_mount} ({device})")
    for link in links:
        if not link.is_symlink():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to("../var-lib-appliance.mount")
