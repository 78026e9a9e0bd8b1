"""Appliance configuration: one TOML file, every key with a documented default.

Lookup order: ``--config PATH``, else ``$APPLIANCE_CONFIG``, else ``/etc/appliance/appliance.toml``.
A missing default file means "all defaults"; an explicitly named file must exist. Unknown keys and
bad values stop start-up with a :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .sections import (
    AdminConfig,
    BucketConfig,
    EventConfig,
    FacesConfig,
    FtpConfig,
    GpioConfig,
    ImporterConfig,
    LiveConfig,
    PathsConfig,
    PublishConfig,
    SecondCopyConfig,
    SyncConfig,
    TetherConfig,
)

DEFAULT_PATH = Path("/etc/appliance/appliance.toml")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class ConfigError(ValueError):
    """A configuration key is unknown or its value is invalid."""


@dataclass(frozen=True)
class Config:
    """The whole configuration; each section is a dataclass of its own."""

    paths: PathsConfig = field(default_factory=PathsConfig)
    importer: ImporterConfig = field(default_factory=ImporterConfig)
    publish: PublishConfig = field(default_factory=PublishConfig)
    bucket: BucketConfig = field(default_factory=BucketConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    admin: AdminConfig = field(default_factory=AdminConfig)
    live: LiveConfig = field(default_factory=LiveConfig)
    gpio: GpioConfig = field(default_factory=GpioConfig)
    ftp: FtpConfig = field(default_factory=FtpConfig)
    second_copy: SecondCopyConfig = field(default_factory=SecondCopyConfig)
    tether: TetherConfig = field(default_factory=TetherConfig)
    faces: FacesConfig = field(default_factory=FacesConfig)
    event: EventConfig = field(default_factory=EventConfig)
    source: Path | None = None

    def folder(self, name: str) -> Path:
        """Absolute path of a data folder (buffer, web, trash, archive, state)."""
        value: Path = getattr(self.paths, name)
        return value if value.is_absolute() else self.paths.data_root / value

    @property
    def db_path(self) -> Path:
        return self.folder("state") / "appliance.db"

    def ensure_folders(self) -> None:
        """Create every data folder (idempotent)."""
        for name in ("buffer", "web", "trash", "archive", "state"):
            self.folder(name).mkdir(parents=True, exist_ok=True)


_SECTIONS = {f.name: f.type for f in fields(Config) if f.name != "source"}
_SECTION_TYPES = {
    "paths": PathsConfig,
    "importer": ImporterConfig,
    "publish": PublishConfig,
    "bucket": BucketConfig,
    "sync": SyncConfig,
    "admin": AdminConfig,
    "live": LiveConfig,
    "gpio": GpioConfig,
    "ftp": FtpConfig,
    "second_copy": SecondCopyConfig,
    "tether": TetherConfig,
    "faces": FacesConfig,
    "event": EventConfig,
}

_RANGES: dict[str, tuple[float, float]] = {
    "importer.poll_seconds": (0.05, 3600),
    "live.timeout": (0.5, 60),
    "importer.thumb_size": (64, 2048),
    "importer.settle_seconds": (0, 3600),
    "importer.upload_max_mb": (1, 4096),
    "importer.thumb_workers": (0, 64),
    "importer.copy_workers": (1, 32),
    "importer.raw_min_preview": (0, 20000),
    "ftp.reserve_mb": (0, 1_000_000),
    "ftp.max_login_failures": (1, 1000),
    "publish.long_edge": (320, 8192),
    "publish.thumb_edge": (64, 2048),
    "publish.quality": (30, 100),
    "publish.poll_seconds": (0.05, 3600),
    "publish.webp_quality": (30, 100),
    "bucket.connect_timeout": (0.1, 120),
    "bucket.read_timeout": (0.1, 600),
    "sync.poll_seconds": (0.05, 3600),
    "sync.max_backoff_seconds": (1, 3600),
    "sync.workers": (1, 16),
    "gpio.status_led": (0, 27),
    "gpio.button": (0, 27),
    "gpio.card_led": (0, 27),
    "gpio.rgb_red": (0, 27),
    "gpio.rgb_green": (0, 27),
    "gpio.rgb_blue": (0, 27),
    "gpio.hold_seconds": (1, 30),
    "gpio.shutdown_seconds": (3, 60),
    "tether.linger_seconds": (0, 86400),
    "second_copy.poll_seconds": (0.05, 3600),
    "second_copy.recheck_days": (0, 3650),
    "faces.timeout_seconds": (1, 3600),
    "faces.threads": (1, 16),
    "faces.idle_seconds": (0, 86400),
    "faces.poll_seconds": (0.05, 3600),
}


def _coerce(key: str, value: Any, default: Any, annotation: str) -> Any:
    """Check one value against the type of its default; return it converted."""
    wants_path = "Path" in annotation
    if value is None:
        raise ConfigError(f"{key}: a value is required")
    if wants_path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{key}: expected a path string, got {value!r}")
        return Path(value).expanduser()
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int | float) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        if isinstance(default, int) and not isinstance(value, int):
            raise ConfigError(f"{key}: expected a whole number, got {value!r}")
        low, high = _RANGES.get(key, (float("-inf"), float("inf")))
        if not low <= value <= high:
            raise ConfigError(f"{key}: {value!r} is outside {low:g}..{high:g}")
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
        return tuple(value)
    raise ConfigError(f"{key}: unsupported value {value!r}")  # pragma: no cover


def _section(name: str, raw: Any, base_dir: Path | None) -> Any:
    cls = _SECTION_TYPES[name]
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}]: expected a table")
    defaults = cls()
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{name}.{key}: unknown key (known: {', '.join(sorted(known))})")
        f = known[key]
        coerced = _coerce(f"{name}.{key}", value, getattr(defaults, key), str(f.type))
        # data_root and optional files are relative to the config file; folders to data_root
        relative_to_file = name != "paths" or key == "data_root"
        if isinstance(coerced, Path) and not coerced.is_absolute() and base_dir and relative_to_file:
            coerced = (base_dir / coerced).resolve()
        values[key] = coerced
    return cls(**values)


def _read_secrets(bucket: BucketConfig) -> tuple[BucketConfig, str]:
    """The bucket with its token from ``secrets_file``, and the live secret kept there (or "")."""
    path = bucket.secrets_file
    if path is None:
        return bucket, ""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise ConfigError(f"bucket.secrets_file: {path} does not exist") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"bucket.secrets_file: {path} must not be readable by others (chmod 600)")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"bucket.secrets_file: {path} is not valid TOML: {exc}") from exc
    extra = set(data) - {"key_id", "secret", "live_secret"}
    if extra:
        raise ConfigError(f"bucket.secrets_file: unknown key {sorted(extra)[0]!r}")
    from dataclasses import replace

    live_secret = str(data.pop("live_secret", ""))
    return replace(bucket, **{k: str(v) for k, v in data.items()}), live_secret


def parse(text: str, source: Path | None = None) -> Config:
    """Parse and validate configuration text."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source or 'config'}: not valid TOML: {exc}") from exc
    base_dir = source.parent if source else None
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in _SECTIONS:
            raise ConfigError(f"{name}: unknown section (known: {', '.join(sorted(_SECTIONS))})")
        sections[name] = _section(name, value, base_dir)
    config = Config(**sections, source=source)
    _validate(config)
    from dataclasses import replace

    bucket, live_secret = _read_secrets(config.bucket)
    live = replace(config.live, secret=live_secret) if live_secret else config.live
    return replace(config, bucket=bucket, live=live)


def _validate(config: Config) -> None:
    if not SLUG_RE.match(config.event.slug):
        raise ConfigError(f"event.slug: {config.event.slug!r} must be lowercase letters, digits, -")
    for key in ("bucket.prefix", "second_copy.bucket_prefix"):
        prefix = getattr(getattr(config, key.split(".")[0]), key.split(".")[1])
        if prefix and not re.match(r"^[A-Za-z0-9][A-Za-z0-9_/-]*[A-Za-z0-9]$|^[A-Za-z0-9]$", prefix):
            raise ConfigError(f"{key}: {prefix!r} must not start or end with '/'")
    if config.bucket.prefix and f"{config.second_copy.bucket_prefix}/".startswith(f"{config.bucket.prefix}/"):
        raise ConfigError("second_copy.bucket_prefix: must lie outside bucket.prefix (the gallery's)")
    if config.importer.mount not in ("auto", "kernel", "fuse"):
        raise ConfigError(f"importer.mount: {config.importer.mount!r} must be auto, kernel or fuse")
    if config.importer.verify_from not in ("auto", "disk", "cache"):
        raise ConfigError(f"importer.verify_from: {config.importer.verify_from!r} must be auto,"
                          " disk or cache")
    account = config.bucket.account_id
    if account and not re.match(r"^[A-Za-z0-9]{1,64}$", account):
        raise ConfigError(f"bucket.account_id: {account!r} must be letters and digits only")
    url = config.bucket.endpoint_url
    if url and not re.match(r"^https?://", url):
        raise ConfigError(f"bucket.endpoint_url: {url!r} must start with http:// or https://")
    if config.live.url and not re.match(r"^https?://[^/\s]+", config.live.url):
        raise ConfigError(f"live.url: {config.live.url!r} must start with http:// or https://")
    _validate_gpio(config.gpio)
    if not re.fullmatch(r"[^:\s]*:\d{1,5}", config.ftp.bind):
        raise ConfigError(f"ftp.bind: {config.ftp.bind!r} must be host:port")
    if not passive_ports(config):
        raise ConfigError(f"ftp.passive_ports: {config.ftp.passive_ports!r} must be LOW-HIGH, "
                          "ports 1024-65535")
    try:
        plain_networks(config)
    except ValueError as exc:
        raise ConfigError(f"ftp.plain_networks: {exc}") from exc


def plain_networks(config: Config) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``ftp.plain_networks`` parsed (raises ValueError on a bad entry)."""
    return [ipaddress.ip_network(part.strip(), strict=False)
            for part in config.ftp.plain_networks.split(",") if part.strip()]


def passive_ports(config: Config) -> range:
    """``ftp.passive_ports`` as a range of port numbers (empty when the setting is not one)."""
    low, _, high = config.ftp.passive_ports.partition("-")
    if not (low.isdigit() and high.isdigit() and 1024 <= int(low) <= int(high) <= 65535):
        return range(0)
    return range(int(low), int(high) + 1)


def _validate_gpio(gpio: GpioConfig) -> None:
    pins = {key: getattr(gpio, key) for key in ("status_led", "button", "card_led", "rgb_red",
                                                "rgb_green", "rgb_blue")}
    used: dict[int, str] = {}
    for key, pin in pins.items():
        if pin and pin in used:
            raise ConfigError(f"gpio.{key}: pin {pin} is already used by gpio.{used[pin]}")
        used[pin] = key
    rgb = [pins["rgb_red"], pins["rgb_green"], pins["rgb_blue"]]
    if any(rgb) and not all(rgb):
        raise ConfigError("gpio.rgb_red: set all of gpio.rgb_red, rgb_green and rgb_blue (or none)")
    if gpio.shutdown_seconds <= gpio.hold_seconds:
        raise ConfigError(f"gpio.shutdown_seconds: {gpio.shutdown_seconds:g} must be longer than "
                          f"gpio.hold_seconds ({gpio.hold_seconds:g})")


def config_path(explicit: str | os.PathLike[str] | None = None) -> tuple[Path, bool]:
    """The config file to read and whether it was asked for explicitly."""
    if explicit:
        return Path(explicit), True
    env = os.environ.get("APPLIANCE_CONFIG")
    if env:
        return Path(env), True
    return DEFAULT_PATH, False


def load(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Load the configuration following the documented lookup order."""
    path, required = config_path(explicit)
    if not path.exists():
        if required:
            raise ConfigError(f"config file {path} does not exist")
        return parse("", None)
    return parse(path.read_text(), path.resolve())
