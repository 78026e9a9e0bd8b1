"""``appliance firstboot``: apply the boot partition's appliance.toml to the system, at every boot.

Run as root by ``appliance-firstboot.service`` before the network and the appliance's services. When
the file changed since it was last applied:

1. each valid secret goes into root-only storage (``/etc/appliance/firstboot/secrets.toml``, 0600)
   and is blanked in the file on the FAT partition (temp file, fsync, rename);
2. the whole file is validated; if it is valid, ``/etc/appliance/appliance.toml`` (the admin
   password as a hash, the bucket keys in ``bucket-secrets.toml`` readable by the service user
   only), the NetworkManager hotspot, the hostname, the Wi-Fi country and the SSD mount are written;
3. the outcome is recorded in the store (setting ``firstboot``): a bad file makes the status LED
   show the error pattern and the admin say what is wrong. The previous settings stay in force,
   except a valid ``[wifi]`` and hostname: they are applied anyway, so the phone can reach the admin.

Files are only rewritten when their content changes (the SD card is not worn by every boot).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets as secrets_mod
import sys
import tomllib
import traceback
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import config as config_mod
from ..config import ConfigError
from ..fsutil import atomic_file
from . import bootfile
from .boot_layout import Layout, Result, read_or_empty, service_user, write_if_changed
from .bootfile import BootFileError, BootSettings
from .system_settings import apply_access, apply_hostname, apply_network, apply_ssd

SETTING = "firstboot"


def load_vault(layout: Layout) -> dict[str, str]:
    """Stored secrets by :data:`bootfile.SECRETS` name (``admin_password`` holds only a hash)."""
    try:
        data = tomllib.loads(layout.vault.read_text()).get("secrets", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)}


def save_vault(layout: Layout, vault: dict[str, str]) -> bool:
    layout.vault_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(layout.vault_dir, 0o700)
    text = bootfile.dump_toml({"secrets": vault}, "Secrets moved off the boot partition. Root only.")
    return write_if_changed(layout.vault, text, 0o600)


# -- the run -----------------------------------------------------------------------------------
def apply(layout: Layout, force: bool = False) -> Result:
    """Read the boot file and apply it; never raises for a bad file (the Result says why)."""
    result = Result(ok=True, file=str(layout.boot_file))
    try:
        data = layout.boot_file.read_bytes()
    except FileNotFoundError:
        return result
    digest = hashlib.sha256(data).hexdigest()
    if not force and read_or_empty(layout.applied).strip() == digest:
        return result
    try:
        text = bootfile.decode(data)
        settings = bootfile.read(text)
    except BootFileError as exc:
        result.ok = False
        result.errors.append(str(exc))
        _fallback_config(layout, None, result)
        return result

    vault = load_vault(layout)
    vault_before = dict(vault)
    for name, value in settings.secrets.items():
        vault[name] = _hash_password(value, vault) if name == "admin_password" else value
    if vault != vault_before and save_vault(layout, vault):
        result.changed.append(str(layout.vault))
    if settings.secrets:
        _blank_boot_file(layout, text, set(settings.secrets), result)

    errors = list(settings.errors) + _missing(settings, vault)
    config_text = _config_text(settings, vault, layout)
    if not errors:
        errors += _config_problems(config_text, vault, layout)
    if errors:
        result.ok = False
        result.errors = errors
        _fallback_config(layout, settings, result)
        apply_access(layout, settings, vault, result)
        return result

    owner = service_user()
    stored = _stored_secrets(vault)
    if stored and write_if_changed(layout.bucket_secrets, _bucket_secrets_text(stored), 0o600, owner):
        result.changed.append(str(layout.bucket_secrets))
    if write_if_changed(layout.config_file, config_text, 0o640, owner, group_only=True):
        result.changed.append(str(layout.config_file))
    apply_network(layout, settings, vault, result)
    apply_hostname(layout, settings.system.hostname, result)
    apply_ssd(layout, settings.system.ssd, result)
    result.applied = True
    # Remember what was applied (the file as it is now, secrets blanked): unchanged -> no work.
    try:
        now = hashlib.sha256(layout.boot_file.read_bytes()).hexdigest()
    except OSError:
        now = digest
    write_if_changed(layout.applied, now + "\n", 0o600)
    return result


def _hash_password(password: str, vault: dict[str, str]) -> str:
    from werkzeug.security import check_password_hash, generate_password_hash

    old = vault.get("admin_password")
    if old and check_password_hash(old, password):
        return old  # same password: keep the hash (no rewrite)
    return generate_password_hash(password)


def _blank_boot_file(layout: Layout, text: str, names: set[str], result: Result) -> None:
    today = datetime.now(UTC).date().isoformat()
    note = f"moved to the appliance on {today}; type a new one here to change it"
    try:
        blanked = bootfile.blank_secrets(text, names, note)
        with atomic_file(layout.boot_file, 0o644) as handle:  # FAT ignores the mode
            handle.write(blanked.encode())
    except (OSError, TypeError, BootFileError) as exc:
        result.warnings.append(f"could not remove the secrets from {layout.boot_file}: {exc}")
        return
    result.changed.append(f"{layout.boot_file} (secrets removed)")


def _missing(settings: BootSettings, vault: dict[str, str]) -> list[str]:
    """Settings a working box needs that are neither in the file nor stored."""
    missing = []
    event = settings.appliance.get("event", {})
    if not event.get("title"):
        missing.append('event.name: name the event, e.g. name = "Anna & Ben\'s wedding"')
    bucket = settings.appliance.get("bucket", {})
    for key in ("endpoint_url", "bucket"):
        if not bucket.get(key):
            missing.append(f"bucket.{key}: required to upload the photos")
    for name, text in (("bucket_key_id", "bucket.key_id"), ("bucket_secret", "bucket.secret")):
        if name not in vault:
            missing.append(f"{text}: required to upload the photos (the bucket's API token)")
    if "admin_password" not in vault:
        missing.append("admin.password: choose the admin password (at least 8 characters)")
    if settings.wifi_enabled and "wifi_passphrase" not in vault:
        missing.append("wifi.passphrase: the phone's password for the access point (8 to 63 characters)")
    return [m for m in missing if m.split(":", 1)[0] not in " ".join(settings.errors)]


def _config_sections(settings: BootSettings, vault: dict[str, str], layout: Layout,
                     inline: bool) -> dict[str, dict[str, Any]]:
    sections = {name: dict(values) for name, values in settings.appliance.items()}
    admin = sections.setdefault("admin", {})
    if "admin_password" in vault:
        admin["password_hash"] = vault["admin_password"]
    if "plain_networks" not in sections.get("ftp", {}):
        # plain FTP from the appliance's own access point (and this machine) only; without one
        # (Ethernet on the venue's network) a camera must use FTPS
        own = f"{settings.wifi.address.network}, " if settings.wifi is not None else ""
        sections.setdefault("ftp", {})["plain_networks"] = f"{own}127.0.0.0/8, ::1/128"
    stored = _stored_secrets(vault)
    if stored and inline:
        _inline_secrets(sections, stored)
    elif stored:
        sections.setdefault("bucket", {})["secrets_file"] = str(
            Path("/") / layout.bucket_secrets.relative_to(layout.root))
    return sections


def _stored_secrets(vault: dict[str, str]) -> dict[str, str]:
    """What goes into ``bucket.secrets_file``: the bucket's token and the live channel's secret."""
    stored = {}
    if "bucket_key_id" in vault and "bucket_secret" in vault:
        stored["key_id"], stored["secret"] = vault["bucket_key_id"], vault["bucket_secret"]
    if "live_secret" in vault:
        stored["live_secret"] = vault["live_secret"]
    return stored


def _inline_secrets(sections: dict[str, Any], stored: dict[str, str]) -> None:
    for key in ("key_id", "secret"):
        if key in stored:
            sections.setdefault("bucket", {})[key] = stored[key]
    if "live_secret" in stored:
        sections.setdefault("live", {})["secret"] = stored["live_secret"]


def _config_text(settings: BootSettings, vault: dict[str, str], layout: Layout) -> str:
    header = (f"Written by `appliance firstboot` from {layout.boot_file} "
              f"({datetime.now(UTC).date().isoformat()}).\n"
              "Edit that file on the SD card's boot partition instead: it is applied at boot when it "
              "changed,\nand replaces this one.")
    try:
        return bootfile.dump_toml(_config_sections(settings, vault, layout, inline=False), header)
    except TypeError as exc:
        return f"# invalid: {exc}\n"


def _config_problems(config_text: str, vault: dict[str, str], layout: Layout) -> list[str]:
    """Validate the appliance config exactly as the services will read it (secrets inline)."""
    try:
        raw = tomllib.loads(config_text)
    except tomllib.TOMLDecodeError as exc:
        return [f"could not be turned into a configuration: {exc}"]
    if raw.get("bucket", {}).pop("secrets_file", None) is not None:
        _inline_secrets(raw, _stored_secrets(vault))
    try:
        config_mod.parse(bootfile.dump_toml(raw), None)
    except ConfigError as exc:
        return [_without_secrets(str(exc), vault)]
    except TypeError as exc:
        return [str(exc)]
    return []


def _without_secrets(message: str, vault: dict[str, str]) -> str:
    for value in vault.values():
        if value and len(value) >= 4:
            message = message.replace(value, "***")
    return message


def _bucket_secrets_text(stored: dict[str, str]) -> str:
    """``bucket.secrets_file``: owned by the service user, mode 0600 (the config insists)."""
    return ("# The bucket's API token and the live channel's secret, moved here from the boot "
            "partition's appliance.toml.\n"
            + "".join(f"{key} = {bootfile.toml_value(value)}\n" for key, value in stored.items()))


def _fallback_config(layout: Layout, settings: BootSettings | None, result: Result) -> None:
    """With a bad file and no usable configuration yet, write one that lets the admin explain.

    The admin needs a password to start: the stored one, else a random one nobody knows (the login
    page then shows what is wrong). Valid GPIO pins are kept so the error LED is the venue's LED.
    """
    try:
        admin = tomllib.loads(read_or_empty(layout.config_file)).get("admin", {})
    except tomllib.TOMLDecodeError:
        admin = {}
    if isinstance(admin, dict) and (admin.get("password") or admin.get("password_hash")):
        return  # the admin starts with the settings in force: it explains from there
    from werkzeug.security import generate_password_hash

    vault = load_vault(layout)
    sections: dict[str, dict[str, Any]] = {}
    gpio = settings.appliance.get("gpio") if settings else None
    if gpio:
        try:
            config_mod.parse(bootfile.dump_toml({"gpio": gpio}))
            sections["gpio"] = gpio
        except (ConfigError, TypeError):
            pass
    sections["admin"] = {"password_hash": vault.get("admin_password")
                         or generate_password_hash(secrets_mod.token_urlsafe(32))}
    text = bootfile.dump_toml(sections, f"Fallback written by `appliance firstboot`: {layout.boot_file} "
                                        "has errors (see the admin or `appliance doctor`).")
    if write_if_changed(layout.config_file, text, 0o640, service_user(), group_only=True):
        result.changed.append(f"{layout.config_file} (fallback)")


# -- recording the outcome ---------------------------------------------------------------------
def as_service_user(action: Callable[[], None]) -> bool:
    """Run ``action`` as the service user (the store's files must stay theirs); True on success."""
    user = service_user() if os.geteuid() == 0 else None
    if user is None:
        action()
        return True
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        code = 1
        try:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            os.umask(0o027)
            action()
            code = 0
        except BaseException:  # report anything, exit non-zero
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def effective_config(layout: Layout) -> config_mod.Config:
    """The configuration the services will start with (defaults when it does not load)."""
    try:
        return config_mod.load(layout.config_file)
    except ConfigError:
        return config_mod.parse("")


def record(result: Result, config: config_mod.Config) -> bool:
    """Store the outcome where the status LED and the admin read it (the store of ``config``)."""
    root = config.paths.data_root
    user = service_user() if os.geteuid() == 0 else None
    if user is not None and not root.exists():  # normally StateDirectory= makes it, later
        root.mkdir(parents=True)
        os.chmod(root, 0o750)  # as StateDirectoryMode= (the unit's umask is 077)
        os.chown(root, user.pw_uid, user.pw_gid)

    def write() -> None:
        from ..store import Store

        config.ensure_folders()
        store = Store(config.db_path)
        try:
            store.set_setting(SETTING, asdict(result))
            store.appliance_id()  # made once, at first boot: its shard and name tag in shared events
        finally:
            store.close()

    return as_service_user(write)


def read_record(config: config_mod.Config) -> dict[str, Any] | None:
    """The last recorded outcome, read without writing anything (for ``appliance doctor``)."""
    from ..store import read_setting

    return read_setting(config.db_path, SETTING)


def problems(store: Any) -> list[str]:
    """What is wrong with the boot file, for the status LED and the admin (empty when fine)."""
    found = store.get_setting(SETTING) or {}
    if found.get("ok", True):
        return []
    where = Path(found.get("file") or "appliance.toml").name
    return [f"{where} on the SD card: {error}" for error in found.get("errors", [])]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", default="/", help="apply to a system mounted here (default /)")
    parser.add_argument("--force", action="store_true", help="apply even if the file did not change")
    parser.add_argument("--no-record", action="store_true", help="do not write the outcome to the store")


def run(args: argparse.Namespace) -> int:
    """``appliance firstboot``: 0 when the file is applied, unchanged or absent; 1 when it is bad."""
    layout = Layout(Path(args.root))
    result = apply(layout, force=args.force)
    for line in result.changed:
        print(f"firstboot: wrote {line}")
    for line in result.warnings:
        print(f"firstboot: warning: {line}", file=sys.stderr)
    for line in result.errors:
        print(f"firstboot: {layout.boot_file}: {line}", file=sys.stderr)
    if not result.errors and not result.applied:
        state = "absent" if not layout.boot_file.exists() else "unchanged since it was applied"
        print(f"firstboot: {layout.boot_file} {state}")
    elif result.applied:
        print(f"firstboot: applied {layout.boot_file}")
    if not args.no_record and not record(result, effective_config(layout)):
        print("firstboot: warning: could not record the outcome in the store", file=sys.stderr)
    return 0 if result.ok else 1
