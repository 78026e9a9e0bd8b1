"""``appliance doctor``: what is wrong with this box and how to fix it.

Checks the config, the data folders and their free space, the bucket (a HEAD with the configured
credentials), the systemd units and GPIO access. Each finding is ok, warn, FAIL or skip, with the
command or setting that fixes it; the exit status is 1 when anything FAILs.
"""

from __future__ import annotations

import glob
import grp
import importlib.util
import json
import os
import pwd
import stat
import subprocess
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import config as config_mod
from ..config import Config, ConfigError
from .health import DATA_FOLDERS, MIN_FREE_BYTES, bytes_text, free_bytes

SERVICE_USER = "appliance"
UNITS = tuple(f"appliance-{name}.service"
              for name in ("importer", "publisher", "sync", "gpio", "admin", "ftp", "second-copy", "faces"))
UNIT_WRITABLE = Path("/var/lib/appliance")  # ReadWritePaths= / StateDirectory= of every unit
UNIT_DIRS = (Path("/etc/systemd/system"), Path("/usr/local/lib/systemd/system"),
             Path("/usr/lib/systemd/system"))


@dataclass
class Finding:
    """One line of the report."""

    check: str
    level: str  # ok, warn, fail, skip
    message: str
    fix: str = ""


def check_config(explicit: str | None) -> tuple[list[Finding], Config | None]:
    path, required = config_mod.config_path(explicit)
    try:
        config = config_mod.load(explicit)
    except ConfigError as exc:
        return [Finding("config", "fail", str(exc), f"edit {path} (`appliance doctor` again after)")], None
    findings = []
    if not path.exists() and not required:
        findings.append(Finding("config", "warn", f"no {path}: every setting is a default",
                                f"write {path} (see docs/configuration.md)"))
    else:
        findings.append(Finding("config", "ok", f"{path} is valid"))
        mode = path.stat().st_mode
        secret = config.bucket.secret or config.admin.password
        if secret and mode & stat.S_IROTH:
            findings.append(Finding("config", "warn", f"{path} holds secrets and is world-readable",
                                    f"chown root:{SERVICE_USER} {path} && chmod 640 {path}"))
    if not (config.admin.password or config.admin.password_hash):
        findings.append(Finding("config", "warn", "no admin password: the admin will not start",
                                f"set admin.password in {path}"))
    return findings, config


def _service_user() -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        return None


def units_installed() -> bool:
    return any((d / "appliance.target").exists() for d in UNIT_DIRS)


def check_folders(config: Config) -> list[Finding]:
    findings = []
    user = _service_user() if os.geteuid() == 0 else None
    outside = []
    for name in DATA_FOLDERS:
        folder = config.folder(name)
        if not folder.exists():
            findings.append(Finding("folders", "warn", f"{name} folder {folder} does not exist yet",
                                    "it is created when a service starts"))
            continue
        if not folder.is_dir():
            findings.append(Finding("folders", "fail", f"{name}: {folder} is not a folder",
                                    f"move {folder} aside; the services recreate the folder"))
            continue
        if user is not None and folder.stat().st_uid != user.pw_uid:
            findings.append(Finding("folders", "fail", f"{name} folder {folder} is not owned by "
                                    f"{SERVICE_USER}", f"chown -R {SERVICE_USER}:{SERVICE_USER} {folder}"))
        elif user is None and not os.access(folder, os.W_OK | os.X_OK):
            findings.append(Finding("folders", "fail", f"{name} folder {folder} is not writable",
                                    f"chown -R {SERVICE_USER}:{SERVICE_USER} {folder}"))
        if units_installed() and not folder.resolve().is_relative_to(UNIT_WRITABLE):
            root = config.paths.data_root.resolve()
            outside.append(str(root if folder.resolve().is_relative_to(root) else folder.resolve()))
    if outside:
        dropin = "[Service]\\nReadWritePaths=" + " ".join(sorted(set(outside)))
        findings.append(Finding(
            "folders", "fail", f"the hardened services can only write under {UNIT_WRITABLE}: "
            f"{', '.join(sorted(set(outside)))} is outside",
            "for u in " + " ".join(UNITS) + "; do mkdir -p /etc/systemd/system/$u.d && printf '"
            + dropin + "\\n' > /etc/systemd/system/$u.d/paths.conf; done; systemctl daemon-reload"))
    if not any(f.level == "fail" for f in findings):
        findings.append(Finding("folders", "ok", f"data folders under {config.paths.data_root} are writable"))
    return findings


def check_space(config: Config, min_free: int = MIN_FREE_BYTES) -> list[Finding]:
    findings = []
    for folder, left in free_bytes(config).items():
        text = f"{bytes_text(left)} free on the disk holding {folder}"
        if left < min_free:
            findings.append(Finding("space", "fail", text + f" (needs {bytes_text(min_free)})",
                                    "unpublished photos are in trash/: move buffer/ and trash/ off the "
                                    "box, or set paths.buffer to a larger disk"))
        elif left < 4 * min_free:
            findings.append(Finding("space", "warn", text, "make room before the next card"))
        else:
            findings.append(Finding("space", "ok", text))
    return findings


def check_bucket(config: Config) -> list[Finding]:
    from botocore.exceptions import BotoCoreError, ClientError

    from ..sync import bucket

    cfg = config.bucket
    if not cfg.endpoint_url or not cfg.bucket:
        return [Finding("bucket", "fail", "no bucket configured",
                        "set bucket.endpoint_url, bucket.bucket and bucket.secrets_file")]
    where = f"{cfg.bucket} at {cfg.endpoint_url}"
    try:
        bucket.client(cfg).head_bucket(Bucket=cfg.bucket)
    except bucket.OFFLINE_ERRORS as exc:
        return [Finding("bucket", "warn", f"cannot reach {cfg.endpoint_url}: {exc}",
                        "check the uplink (photos wait in the outbox until it is back)")]
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("403", "401", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return [Finding("bucket", "fail", f"{where} refused the credentials ({code})",
                            "check bucket.key_id / bucket.secret (R2: an API token with Object Read "
                            "& Write on this bucket)")]
        if code in ("404", "NoSuchBucket"):
            return [Finding("bucket", "fail", f"bucket {where} does not exist",
                            "create it, or fix bucket.bucket / bucket.endpoint_url")]
        return [Finding("bucket", "fail", f"{where}: {code} {exc}", "see the error above")]
    except (BotoCoreError, ValueError) as exc:
        return [Finding("bucket", "fail", f"{where}: {exc}", "check the [bucket] settings")]
    return [Finding("bucket", "ok", f"{where} answers; the credentials are accepted")]


def check_second_copy(config: Config) -> list[Finding]:
    """"second copy (drive BACKUP): 1,204 / 1,210, 6 pending"; a missing drive is only a warning."""
    from ..store import Store
    from ..sync.second_copy import summary_line

    cfg = config.second_copy
    if not (cfg.folder or cfg.drive_label or cfg.bucket_prefix) or not config.db_path.exists():
        return []
    store = Store(config.db_path)
    try:
        rows = store.second_copy_targets()
    finally:
        store.close()
    if not rows:
        return [Finding("2nd copy", "warn", "the second copy has not run yet",
                        "systemctl status appliance-second-copy")]
    return [Finding("2nd copy", "warn" if row["problem"] else "ok", summary_line(row),
                    "plug the drive in (photos keep publishing meanwhile)" if row["target"] == "drive"
                    else "check the uplink and the [bucket] settings") for row in rows]


def systemd_running() -> bool:
    return Path("/run/systemd/system").is_dir()


def _show(unit: str) -> dict[str, str]:
    result = subprocess.run(
        ["systemctl", "show", unit, "--property=LoadState,ActiveState,SubState,StatusText,Result,"
         "NRestarts,UnitFileState"], capture_output=True, text=True, timeout=15)
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)


def check_units() -> list[Finding]:
    if not systemd_running():
        return [Finding("units", "skip", "systemd is not running here (not booted with systemd)")]
    findings = []
    target = _show("appliance.target")
    if target.get("LoadState") != "loaded":
        return [Finding("units", "fail", "appliance.target is not installed",
                        "run image-build/install-appliance.sh")]
    if target.get("UnitFileState") != "enabled":
        findings.append(Finding("units", "warn", "appliance.target is not enabled (no start at boot)",
                                "systemctl enable --now appliance.target"))
    for unit in UNITS:
        props = _show(unit)
        state = f"{props.get('ActiveState')}/{props.get('SubState')}"
        text = props.get("StatusText") or ""
        restarts = int(props.get("NRestarts") or 0)
        if props.get("LoadState") != "loaded":
            findings.append(Finding("units", "fail", f"{unit} is {props.get('LoadState')}",
                                    "run image-build/install-appliance.sh"))
        elif props.get("ActiveState") == "active":
            extra = f" ({restarts} restarts)" if restarts else ""
            findings.append(Finding("units", "warn" if restarts else "ok",
                                    f"{unit} {state}: {text}{extra}",
                                    f"journalctl -u {unit} -b" if restarts else ""))
        elif props.get("ActiveState") == "failed":
            findings.append(Finding("units", "fail", f"{unit} failed ({props.get('Result')}): {text}",
                                    f"journalctl -u {unit} -b -e; then systemctl restart {unit}"))
        else:
            findings.append(Finding("units", "warn", f"{unit} {state}: {text}",
                                    "systemctl start appliance.target"))
    return findings


def check_gpio(config: Config) -> list[Finding]:
    if config.gpio.mock:
        return [Finding("gpio", "skip", "gpio.mock = true: gpiozero's mock pins, no hardware")]
    pins = [f"{k}={getattr(config.gpio, k)}" for k in ("status_led", "button", "card_led")
            if getattr(config.gpio, k)]
    chips = sorted(glob.glob("/dev/gpiochip*"))
    if not chips:
        return [Finding("gpio", "fail", "no /dev/gpiochip*: not a Raspberry Pi, or no GPIO driver",
                        "on a laptop set gpio.mock = true")]
    findings = []
    user = _service_user()
    for chip in chips:
        st = os.stat(chip)
        if user is not None and os.geteuid() == 0:
            groups = os.getgrouplist(user.pw_name, user.pw_gid)
            allowed = st.st_uid == user.pw_uid or (st.st_gid in groups and st.st_mode & stat.S_IRGRP
                                                   and st.st_mode & stat.S_IWGRP)
            who = SERVICE_USER
        else:
            allowed = os.access(chip, os.R_OK | os.W_OK)
            who = "this user"
        if not allowed:
            group = grp.getgrgid(st.st_gid).gr_name
            findings.append(Finding("gpio", "fail", f"{who} cannot open {chip} (group {group})",
                                    f"usermod -aG {group} {SERVICE_USER}, and a udev rule giving "
                                    "gpiochip* to that group (install-appliance.sh writes one)"))
    if importlib.util.find_spec("lgpio") is None:
        findings.append(Finding("gpio", "fail", "the lgpio module is missing (gpiozero's pin factory "
                                "on the Pi 5 and Pi 4)", "/opt/appliance/venv/bin/pip install lgpio"))
    if not findings:
        findings.append(Finding("gpio", "ok", f"{', '.join(chips)} usable; pins {', '.join(pins)}"))
    return findings


def check_boot_file(config: Config) -> list[Finding]:
    """The SD image's appliance.toml on the boot partition, as `appliance firstboot` last found it."""
    from .firstboot import read_record

    record = read_record(config)
    if record is None:  # not the SD image, or the first boot has not run yet
        return []
    where = record.get("file") or "appliance.toml"
    if record.get("ok"):
        state = "is valid" if Path(where).exists() else "is absent: nothing to apply"
        return [Finding("bootfile", "ok", f"{where} {state} (checked {record.get('checked_at')})")]
    fix = f"edit {where} (SD card, boot partition), then reboot or `systemctl restart appliance-firstboot`"
    return [Finding("bootfile", "fail", error, fix) for error in record.get("errors", [])]


def run_checks(explicit: str | None, min_free: int = MIN_FREE_BYTES) -> list[Finding]:
    findings, config = check_config(explicit)
    if config is not None:
        findings += check_boot_file(config)
        findings += check_folders(config) + check_space(config, min_free) + check_bucket(config)
        findings += check_gpio(config) + check_second_copy(config)
    findings += check_units()
    return findings


def render(findings: Iterable[Finding]) -> str:
    marks = {"ok": "ok  ", "warn": "warn", "fail": "FAIL", "skip": "skip"}
    lines = []
    for f in findings:
        lines.append(f"{marks[f.level]}  {f.check:<8} {f.message}")
        if f.fix and f.level in ("warn", "fail"):
            lines.append(f"{'':16}fix: {f.fix}")
    return "\n".join(lines)


def main(explicit: str | None, as_json: bool = False, min_free: int = MIN_FREE_BYTES) -> int:
    findings = run_checks(explicit, min_free)
    if as_json:
        print(json.dumps([asdict(f) for f in findings], indent=2))
    else:
        print(render(findings))
        fails = sum(f.level == "fail" for f in findings)
        warns = sum(f.level == "warn" for f in findings)
        print(f"\n{fails} problem(s), {warns} warning(s)" if fails or warns else "\nall good")
    return 1 if any(f.level == "fail" for f in findings) else 0
