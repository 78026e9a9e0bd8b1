"""The appliance's own Wi-Fi access point, as NetworkManager files.

One onboard radio cannot reliably be an access point and a client at once, so ``wlan0`` is the
phone's access point only (WPA2-PSK, CCMP, fixed address, ``ipv4.method=shared``: NetworkManager runs
dnsmasq on it for DHCP and DNS, so a phone joins without settings) and the Internet uplink is the
Ethernet port or a USB-tethered phone, which NetworkManager brings up on its own.
"""

from __future__ import annotations

import re
import uuid

from .bootfile import WifiSettings

CONNECTION_ID = "appliance-hotspot"
CONNECTION_UUID = str(uuid.uuid5(uuid.NAMESPACE_DNS, "appliance-hotspot.appliance.invalid"))
INTERFACE = "wlan0"


def _keyfile_string(value: str) -> str:
    """Escape a value the way GKeyFile reads it back (backslash, leading space, control chars)."""
    out = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return "\\s" + out[1:] if out.startswith(" ") else out


def _ssid(ssid: str) -> str:
    """Plain text when it round-trips safely, else NetworkManager's list-of-bytes form."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _.@+-]*[A-Za-z0-9_.@+-]|[A-Za-z0-9]", ssid):
        return ssid
    return "".join(f"{byte};" for byte in ssid.encode())


def keyfile(wifi: WifiSettings, passphrase: str, interface: str = INTERFACE) -> str:
    """The hotspot connection profile (``system-connections/appliance-hotspot.nmconnection``)."""
    return "\n".join([
        "# Written by `appliance firstboot` from the boot partition's appliance.toml.",
        "[connection]",
        f"id={CONNECTION_ID}",
        f"uuid={CONNECTION_UUID}",
        "type=wifi",
        f"interface-name={interface}",
        "autoconnect=true",
        "autoconnect-priority=100",
        "",
        "[wifi]",
        "mode=ap",
        f"ssid={_ssid(wifi.ssid)}",
        "band=bg",
        f"channel={wifi.channel}",
        # Random MACs would change the phone's saved network on every boot.
        "cloned-mac-address=permanent",
        "",
        "[wifi-security]",
        "key-mgmt=wpa-psk",
        "proto=rsn",
        "pairwise=ccmp",
        "group=ccmp",
        # brcmfmac (the Pi's radio) fails to start an AP that requires protected management frames.
        "pmf=1",
        f"psk={_keyfile_string(passphrase)}",
        "",
        "[ipv4]",
        "method=shared",
        f"address1={wifi.address.with_prefixlen}",
        "",
        "[ipv6]",
        "method=disabled",
        "",
    ])


def dnsmasq_conf(hostname: str, wifi: WifiSettings) -> str:
    """Extra lines for the hotspot's dnsmasq: the admin by name for phones without mDNS."""
    ip = wifi.address.ip
    return "\n".join([
        "# Written by `appliance firstboot`: NetworkManager's dnsmasq for the hotspot reads this folder.",
        f"address=/{hostname}.local/{ip}",
        f"address=/{hostname}/{ip}",
        # A phone that finds no Internet may leave the hotspot; answer for the admin only, the rest
        # goes upstream when an uplink exists.
        "",
    ])


def cmdline_with_regdom(cmdline: str, country: str) -> str:
    """The kernel command line with ``cfg80211.ieee80211_regdom=<country>`` (Raspberry Pi OS way)."""
    words = [w for w in cmdline.split() if not w.startswith("cfg80211.ieee80211_regdom=")]
    words.append(f"cfg80211.ieee80211_regdom={country}")
    return " ".join(words) + "\n"
