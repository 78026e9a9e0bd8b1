#!/usr/bin/env bash
# Turn a Debian bookworm root file system with the appliance installed (install-appliance.sh) into
# the venue image: first-boot configuration from the boot partition, the admin on port 80, the
# Wi-Fi access point through NetworkManager, mDNS, and settings that spare the SD card.
# Run as root inside the target (pi-gen's on_chroot, systemd-nspawn, a chroot). Safe to run again.
# Does not depend on pi-gen.
#
#   install-image.sh [--source DIR] [--boot-dir DIR] [--offline]
#
#   --source DIR    project checkout holding image-build/ (default: the folder above this script)
#   --boot-dir DIR  the FAT boot partition as mounted on the Pi (default /boot/firmware): the
#                   commented appliance.toml template goes there unless one is present
#   --offline       do not install packages; fail if one is missing
set -euo pipefail

UNIT_DIR=/usr/local/lib/systemd/system
SHARE=/usr/local/share/appliance
# NetworkManager runs the hotspot (wpasupplicant in AP mode, dnsmasq-base for DHCP/DNS on it);
# avahi answers <hostname>.local; iw/rfkill/wireless-regdb for the Wi-Fi country; usbmuxd pairs
# an iPhone for USB tethering (Android tethering needs nothing).
PACKAGES=(network-manager wpasupplicant dnsmasq-base avahi-daemon libnss-mdns iw rfkill
  wireless-regdb usbmuxd)

source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
boot_dir=/boot/firmware
offline=0

die() { echo "install-image: $*" >&2; exit 1; }
say() { echo "install-image: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --source) source_dir="$2"; shift 2 ;;
    --boot-dir) boot_dir="$2"; shift 2 ;;
    --offline) offline=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

[ "$(id -u)" = 0 ] || die "run as root"
files="$source_dir/image-build/files"
[ -d "$files" ] || die "no image-build/files under $source_dir (give --source)"
[ -x /opt/appliance/venv/bin/appliance ] || die "run install-appliance.sh first"

# -- packages (only what is missing) --------------------------------------------------------
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$offline" = 0 ] || die "missing packages (--offline): ${missing[*]}"
  say "installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# -- first boot: appliance.toml on the boot partition ----------------------------------------
install -d -m 0755 "$UNIT_DIR" "$SHARE" "$boot_dir"
install -m 0644 "$files/appliance-firstboot.service" "$UNIT_DIR/"
install -m 0644 "$files/appliance.toml" "$SHARE/appliance.toml.template"
if [ ! -e "$boot_dir/appliance.toml" ]; then
  install -m 0644 "$files/appliance.toml" "$boot_dir/appliance.toml"
fi
install -d -m 0700 /etc/appliance/firstboot

# -- the admin on port 80: systemd listens, the unprivileged admin serves ---------------------
install -m 0644 "$files/appliance-admin.socket" "$UNIT_DIR/"
install -d -m 0755 "$UNIT_DIR/appliance-admin.service.d"
install -m 0644 "$files/appliance-admin-port80.conf" "$UNIT_DIR/appliance-admin.service.d/port80.conf"

# -- networking: NetworkManager (hotspot written at first boot), avahi -------------------------
install -d -m 0755 /etc/NetworkManager/conf.d /etc/NetworkManager/dnsmasq-shared.d \
  /etc/avahi/services /etc/systemd/system/NetworkManager-wait-online.service.d
install -d -m 0700 /etc/NetworkManager/system-connections
install -m 0644 "$files/nm-appliance.conf" /etc/NetworkManager/conf.d/50-appliance.conf
install -m 0644 "$files/nm-wait-online.conf" \
  /etc/systemd/system/NetworkManager-wait-online.service.d/50-appliance.conf
install -m 0644 "$files/avahi-appliance.service" /etc/avahi/services/appliance-admin.service

# -- SD card wear and power cuts ------------------------------------------------------------
install -d -m 0755 /etc/systemd/journald.conf.d
install -m 0644 "$files/journald-appliance.conf" /etc/systemd/journald.conf.d/50-appliance.conf
rm -rf /var/log/journal  # volatile: no persistent journal folder
if [ -e /usr/share/systemd/tmp.mount ] && [ ! -e /etc/systemd/system/tmp.mount ]; then
  install -m 0644 /usr/share/systemd/tmp.mount /etc/systemd/system/tmp.mount  # /tmp in RAM
fi

# Units that write to the SD card or use the uplink for nothing during an event.
quiet_units=(dphys-swapfile.service rsyslog.service apt-daily.timer apt-daily-upgrade.timer
  man-db.timer)
for unit in "${quiet_units[@]}"; do
  if systemctl cat "$unit" >/dev/null 2>&1; then
    systemctl disable "$unit" >/dev/null 2>&1 || true
    systemctl mask "$unit" >/dev/null
  fi
done
rm -f /var/swap

# -- enable --------------------------------------------------------------------------------
systemctl enable appliance-firstboot.service appliance-admin.socket NetworkManager.service \
  avahi-daemon.service appliance.target
if systemctl cat tmp.mount >/dev/null 2>&1; then
  systemctl enable tmp.mount 2>/dev/null || true
fi
# Debian's ifupdown would fight NetworkManager over eth0; Raspberry Pi OS does not use it.
if systemctl cat networking.service >/dev/null 2>&1; then
  systemctl disable networking.service >/dev/null 2>&1 || true
fi
say "image settings installed: first boot reads $boot_dir/appliance.toml; admin on port 80"
