"""The venue's settings file on the SD card's boot partition: ``/boot/firmware/appliance.toml``.

It takes any key of the appliance configuration (``[event]``, ``[bucket]``, ``[admin]``, ``[gpio]``,
...) plus two sections of its own: ``[wifi]`` (the access point the phone joins) and ``[system]``
(hostname, SSD). ``event.name`` is accepted for ``event.title`` and the slug is derived from it.

Secrets (``bucket.key_id``, ``bucket.secret``, ``admin.password``, ``wifi.passphrase``) are moved off
the FAT partition once read: the file keeps ``""`` in their place, and an empty secret means "keep
the one stored on the appliance". Messages never repeat a secret's value.

This module only parses, validates and rewrites text; :mod:`appliance.device.firstboot` applies it.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import _SECTION_TYPES

SECRETS: dict[tuple[str, str], str] = {
    ("bucket", "key_id"): "bucket_key_id",
    ("bucket", "secret"): "bucket_secret",
    ("admin", "password"): "admin_password",
    ("wifi", "passphrase"): "wifi_passphrase",
    ("live", "secret"): "live_secret",
}
# Keys the image manages itself: set elsewhere, or meaningless on the appliance.
MANAGED: dict[str, str] = {
    "admin.bind": "the image serves the admin on port 80",
    "admin.password_hash": "set admin.password; the appliance stores only its hash",
    "bucket.secrets_file": "set bucket.key_id and bucket.secret; the appliance stores them",
    "paths": "set system.ssd to keep photos and the store on an external SSD",
}
HOSTNAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
DEVICE_RE = re.compile(r"^(?:(?:LABEL|UUID|PARTUUID|PARTLABEL)=[^\s/]+|/dev/[A-Za-z0-9/_.:-]+)$")
ISO3166 = Path("/usr/share/zoneinfo/iso3166.tab")
DEFAULT_AP_ADDRESS = "10.42.0.1/24"
DEFAULT_HOSTNAME = "gallery"


class BootFileError(ValueError):
    """The boot file cannot be read at all (not UTF-8, not TOML)."""


@dataclass(frozen=True)
class WifiSettings:
    """The appliance's own access point (NetworkManager hotspot, WPA2)."""

    ssid: str
    passphrase: str  # empty: keep the stored one
    country: str
    channel: int = 6
    address: ipaddress.IPv4Interface = ipaddress.IPv4Interface(DEFAULT_AP_ADDRESS)


@dataclass(frozen=True)
class SystemSettings:
    hostname: str = DEFAULT_HOSTNAME
    ssd: str = ""  # LABEL=..., UUID=... or /dev/...; empty: everything on the SD card


@dataclass
class BootSettings:
    """What the boot file says, split by where it goes."""

    appliance: dict[str, dict[str, Any]]  # appliance config sections, secrets removed
    secrets: dict[str, str]  # SECRETS name -> non-empty value found in the file
    wifi: WifiSettings | None  # None: no access point ([wifi] enabled = false)
    system: SystemSettings
    errors: list[str] = field(default_factory=list)
    wifi_enabled: bool = True  # wifi is None with this True: [wifi] has errors


# -- reading ----------------------------------------------------------------------------------------
def decode(data: bytes) -> str:
    """Bytes of the file as text (UTF-8, a BOM from Windows editors tolerated)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BootFileError(f"not UTF-8 text (byte {exc.start}): save it as UTF-8") from exc
    return text.removeprefix("\ufeff")


def parse_toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BootFileError(f"not valid TOML: {exc}") from exc


def read(text: str) -> BootSettings:
    """Split and check the boot file; every problem found is listed, not only the first."""
    raw = parse_toml(text)
    errors: list[str] = []
    secrets: dict[str, str] = {}
    appliance: dict[str, dict[str, Any]] = {}
    for name, value in raw.items():
        if name in ("wifi", "system"):
            if not isinstance(value, dict):
                errors.append(f"[{name}]: expected a table")
            continue
        if name in MANAGED:
            errors.append(f"[{name}]: not set here ({MANAGED[name]})")
            continue
        if name not in _SECTION_TYPES:
            known = ", ".join(sorted([*_SECTION_TYPES, "wifi", "system"]))
            errors.append(f"[{name}]: unknown section (known: {known})")
            continue
        if not isinstance(value, dict):
            errors.append(f"[{name}]: expected a table")
            continue
        section: dict[str, Any] = {}
        for key, item in value.items():
            full = f"{name}.{key}"
            if full in MANAGED:
                errors.append(f"{full}: not set here ({MANAGED[full]})")
            elif (name, key) in SECRETS:
                _take_secret(SECRETS[name, key], full, item, secrets, errors)
            else:
                section[key] = item
        appliance[name] = section
    _event_name(appliance, errors)
    wifi_raw = raw.get("wifi") if isinstance(raw.get("wifi"), dict) else {}
    if "passphrase" in wifi_raw:
        _take_secret("wifi_passphrase", "wifi.passphrase", wifi_raw["passphrase"], secrets, errors)
    wifi = _wifi(wifi_raw, errors)
    system = _system(raw.get("system") if isinstance(raw.get("system"), dict) else {}, errors)
    enabled = wifi_raw.get("enabled", True) is not False
    return BootSettings(appliance, secrets, wifi, system, errors, enabled)


def _take_secret(name: str, key: str, value: Any, secrets: dict[str, str], errors: list[str]) -> None:
    if not isinstance(value, str):
        errors.append(f"{key}: expected a string in quotes")
        return
    if value == "":
        return  # keep the stored one
    problem = secret_problem(name, value)
    if problem:
        errors.append(f"{key}: {problem}")
    else:
        secrets[name] = value


def secret_problem(name: str, value: str) -> str | None:
    """Why a secret cannot be used (never quoting it), or None."""
    if name == "admin_password" and len(value) < 8:
        return f"use at least 8 characters (this one has {len(value)})"
    if name == "wifi_passphrase":
        if re.fullmatch(r"[0-9A-Fa-f]{64}", value):
            return None
        if not 8 <= len(value) <= 63:
            return f"WPA2 needs 8 to 63 characters (this one has {len(value)})"
        if not all(" " <= ch <= "~" for ch in value):
            return "use plain ASCII letters, digits, spaces and punctuation (phones differ on others)"
    if name in ("bucket_key_id", "bucket_secret") and (value != value.strip() or " " in value):
        return "contains spaces: paste the key exactly as the dashboard shows it"
    return None


def slugify(text: str) -> str:
    """A gallery address part from an event name: "Anna & Ben's Wedding" -> "anna-bens-wedding"."""
    text = re.sub("['\u2019]", "", text)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:63].strip("-")
    return slug or "event"


def _event_name(appliance: dict[str, dict[str, Any]], errors: list[str]) -> None:
    event = appliance.get("event")
    if event is None:
        return
    if "name" in event:
        name = event.pop("name")
        if "title" in event:
            errors.append("event.name: give event.name or event.title, not both")
        elif not isinstance(name, str) or not name.strip():
            errors.append("event.name: expected the event's name in quotes")
        else:
            event["title"] = name.strip()
    title = event.get("title")
    if "slug" not in event and isinstance(title, str) and title.strip():
        event["slug"] = slugify(title)


def _known(section: str, raw: dict[str, Any], known: set[str], errors: list[str]) -> None:
    for key in raw:
        if key not in known:
            errors.append(f"{section}.{key}: unknown key (known: {', '.join(sorted(known))})")


def countries() -> set[str]:
    """ISO 3166 alpha-2 codes from tzdata; empty when the table is missing."""
    try:
        lines = ISO3166.read_text().splitlines()
    except OSError:
        return set()
    return {line.split("\t", 1)[0] for line in lines if line and not line.startswith("#")}


def _wifi(raw: dict[str, Any], errors: list[str]) -> WifiSettings | None:
    _known("wifi", raw, {"enabled", "ssid", "passphrase", "country", "channel", "address"}, errors)
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        errors.append(f"wifi.enabled: expected true or false, got {enabled!r}")
        enabled = True
    if not enabled:
        return None
    start = len(errors)
    ssid = raw.get("ssid", "")
    if not isinstance(ssid, str) or not ssid.strip():
        errors.append("wifi.ssid: name the access point the phone joins, e.g. ssid = \"Photos\" "
                      "(or set wifi.enabled = false to use only the Ethernet port)")
        ssid = ""
    elif len(ssid.encode()) > 32:
        errors.append(f"wifi.ssid: at most 32 bytes ({len(ssid.encode())} given)")
    country = raw.get("country", "")
    if not isinstance(country, str) or not re.fullmatch(r"[A-Za-z]{2}", country):
        errors.append(f"wifi.country: the two-letter country code where the box is used, e.g. \"GB\", "
                      f"\"DE\", \"US\" (sets the legal Wi-Fi channels); got {country!r}")
        country = ""
    else:
        country = country.upper()
        known = countries()
        if known and country not in known:
            errors.append(f"wifi.country: {country!r} is not an ISO 3166 country code")
    channel = raw.get("channel", 6)
    top = 11 if country in ("US", "CA") else 13
    if isinstance(channel, bool) or not isinstance(channel, int) or not 1 <= channel <= top:
        errors.append(f"wifi.channel: a 2.4 GHz channel 1..{top}, got {channel!r}")
        channel = 6
    address = _ap_address(raw.get("address", DEFAULT_AP_ADDRESS), errors)
    if len(errors) > start:
        return None
    passphrase = raw.get("passphrase", "")
    return WifiSettings(ssid, passphrase if isinstance(passphrase, str) else "", country, channel, address)


def _ap_address(value: Any, errors: list[str]) -> ipaddress.IPv4Interface:
    default = ipaddress.IPv4Interface(DEFAULT_AP_ADDRESS)
    try:
        iface = ipaddress.IPv4Interface(value)
    except (ValueError, TypeError):
        errors.append(f"wifi.address: an IPv4 address with prefix like \"{DEFAULT_AP_ADDRESS}\", "
                      f"got {value!r}")
        return default
    net = iface.network
    if not iface.ip.is_private or not 16 <= net.prefixlen <= 29 or iface.ip in (net.network_address,
                                                                                net.broadcast_address):
        errors.append(f"wifi.address: {value!r} must be a private host address with a /16../29 prefix")
        return default
    return iface


def _system(raw: dict[str, Any], errors: list[str]) -> SystemSettings:
    _known("system", raw, {"hostname", "ssd"}, errors)
    hostname = raw.get("hostname", DEFAULT_HOSTNAME)
    if not isinstance(hostname, str) or not HOSTNAME_RE.match(hostname.lower()):
        errors.append(f"system.hostname: letters, digits and '-' (the admin is then at "
                      f"http://<hostname>.local), got {hostname!r}")
        hostname = DEFAULT_HOSTNAME
    ssd = raw.get("ssd", "")
    if not isinstance(ssd, str) or (ssd and not DEVICE_RE.match(ssd)):
        errors.append(f"system.ssd: LABEL=..., UUID=... or /dev/sda1 (or \"\" for none), got {ssd!r}")
        ssd = ""
    return SystemSettings(hostname.lower(), ssd)


# -- writing ----------------------------------------------------------------------------------------
def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML
    raise TypeError(f"cannot write {value!r} as TOML")


def dump_toml(sections: dict[str, dict[str, Any]], header: str = "") -> str:
    """Flat ``[section]`` tables of scalars as TOML text (what the appliance config needs)."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for name, values in sections.items():
        if not values:
            continue
        lines += ["", f"[{name}]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
    return "\n".join(lines).lstrip("\n") + "\n"


def blank_secrets(text: str, names: set[str], note: str) -> str:
    """``text`` with the named secrets (:data:`SECRETS` values) replaced by ``""  # note``.

    Comments and layout are kept.

    Works line by line; when the file is too unusual for that (multi-line strings, dotted keys,
    inline tables) it is rewritten from its parsed values instead, so no secret is ever left behind.
    """
    newline = "\r\n" if "\r\n" in text else "\n"
    section = ""
    out = []
    for line in text.splitlines(keepends=True):
        header = re.match(r"^\s*\[\s*([A-Za-z0-9_-]+)\s*\]", line)
        if header:
            section = header.group(1)
        else:
            match = re.match(r"^(\s*)([A-Za-z0-9_-]+)(\s*=\s*)(.*)$", line.rstrip("\r\n"))
            name = SECRETS.get((section, match.group(2))) if match else None
            if match and name in names and not _empty_value(match.group(4)):
                indent, key, equals = match.group(1), match.group(2), match.group(3)
                line = f'{indent}{key}{equals}""  # {note}{newline}'
        out.append(line)
    result = "".join(out)
    if _secrets_left(result, names):
        raw = parse_toml(text)
        for (section_name, key), name in SECRETS.items():
            if name in names and isinstance(raw.get(section_name), dict) and key in raw[section_name]:
                raw[section_name][key] = ""
        header_text = ("Rewritten by the appliance: its secrets were moved to the appliance "
                       f"({note}).\nComments could not be kept.")
        result = dump_toml({k: v for k, v in raw.items() if isinstance(v, dict)}, header_text)
    return result


def _empty_value(value: str) -> bool:
    return re.match(r"""^(""|'')\s*(#.*)?$""", value.strip()) is not None


def _secrets_left(text: str, names: set[str]) -> bool:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return True
    return any(isinstance(raw.get(s), dict) and raw[s].get(k) not in (None, "")
               for (s, k), name in SECRETS.items() if name in names)
