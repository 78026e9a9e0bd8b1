"""The unit files: `systemd-analyze verify` without a single warning, hardening scores, structure.

Both analyses run against a scratch root holding the units, the host's own systemd units (for
sysinit.target and friends) and the console script at /opt/appliance/venv/bin/appliance.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "systemd"
SERVICES = ("importer", "publisher", "sync", "gpio", "admin", "ftp", "second-copy", "faces")
ON_DEMAND = ("tether",)  # started by udev (a camera plugged in), not by appliance.target
MAX_EXPOSURE = 4.0  # systemd-analyze security: "OK" and better; no unit needs an exemption

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                reason="systemd-analyze is not installed")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("root")
    (root / "etc/systemd/system").mkdir(parents=True)
    for unit in UNITS.iterdir():
        shutil.copy(unit, root / "etc/systemd/system" / unit.name)
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    bin_dir = root / "opt/appliance/venv/bin"
    bin_dir.mkdir(parents=True)
    entry = shutil.which("appliance") or str(Path(sys.executable).parent / "appliance")
    shutil.copy(entry, bin_dir / "appliance")  # the console script, as pip installs it
    return root


def unit_paths(root: Path) -> list[str]:
    return sorted(str(p) for p in (root / "etc/systemd/system").glob("appliance*"))


def test_every_unit_verifies_without_a_warning(root: Path) -> None:
    result = subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", "--man=no", *unit_paths(root)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    assert result.stdout == "", result.stdout


def test_verify_does_catch_a_typo(root: Path, tmp_path: Path) -> None:
    """The check above can fail: a misspelt directive makes systemd-analyze talk."""
    bad = root / "etc/systemd/system/appliance-typo.service"
    bad.write_text((UNITS / "appliance-sync.service").read_text().replace(
        "ProtectSystem=strict", "ProtectSystm=strict"))
    try:
        result = subprocess.run(["systemd-analyze", "verify", f"--root={root}", "--man=no", str(bad)],
                                capture_output=True, text=True, timeout=60)
        assert "Unknown key" in result.stderr
    finally:
        bad.unlink()


def exposure(root: Path, unit: str) -> tuple[float, str]:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", f"--root={root}", "--no-pager",
         str(root / "etc/systemd/system" / unit)],
        capture_output=True, text=True, timeout=120,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", result.stdout)
    assert match, result.stdout + result.stderr
    return float(match.group(1)), match.group(2)


def test_security_exposure_of_every_unit(root: Path) -> None:
    figures = {name: exposure(root, f"appliance-{name}.service") for name in SERVICES + ON_DEMAND}
    print("\nsystemd-analyze security (offline):")
    for name, (level, verdict) in figures.items():
        print(f"  appliance-{name + '.service':<22} {level:4.1f}  {verdict}")
    too_exposed = {n: f for n, f in figures.items() if f[0] > MAX_EXPOSURE}
    assert not too_exposed, too_exposed


def read_unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(_join_repeated((UNITS / name).read_text()))
    return parser


def _join_repeated(text: str) -> str:
    """configparser keeps the last of repeated keys; systemd appends: keep them all, joined."""
    out: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("["):
            section = line
        elif "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            if (section, key) in seen:
                out[seen[(section, key)]] += " | " + value
                continue
            seen[(section, key)] = len(out)
        out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize("name", SERVICES + ON_DEMAND)
def test_service_unit_is_supervised_and_hardened(name: str) -> None:
    unit = read_unit(f"appliance-{name}.service")
    service = unit["Service"]
    assert service["Type"] == "notify" and service["NotifyAccess"] == "main"
    assert service["Restart"] == "on-failure" and service["RestartPreventExitStatus"] == "78"
    assert int(service["WatchdogSec"]) >= 30
    assert service["User"] == "appliance" and service["Group"] == "appliance"
    executable, *args = service["ExecStart"].split()
    assert executable == "/opt/appliance/venv/bin/appliance"
    assert build_parser().parse_args(args).command == name  # a real subcommand of the CLI
    for key, value in {"ProtectSystem": "strict", "PrivateTmp": "yes", "NoNewPrivileges": "yes",
                       "ProtectHome": "yes", "RestrictSUIDSGID": "yes",
                       "SystemCallArchitectures": "native", "StateDirectory": "appliance",
                       "ReadWritePaths": "/var/lib/appliance"}.items():
        assert service[key] == value, key
    caps = service["CapabilityBoundingSet"]
    # the importer and the second copy mount drives themselves (see their units)
    assert caps == {"importer": "CAP_SYS_ADMIN CAP_DAC_READ_SEARCH", "second-copy": "CAP_SYS_ADMIN"
                    }.get(name, ""), caps
    assert "@system-service" in service["SystemCallFilter"]
    assert unit["Unit"]["PartOf"] == "appliance.target"
    if name in ON_DEMAND:
        assert not unit.has_section("Install")  # nothing to enable: udev starts it
    else:
        assert unit["Install"]["WantedBy"] == "appliance.target"


RULE = re.compile(r'[A-Z_]+(\{[^}]+\})?(==|!=|=|\+=)"[^"]*"')


def test_tether_udev_rule_starts_the_service_for_cameras_only() -> None:
    """Every line of the rule is well formed (KEY{arg}op"value", comma-separated); cameras (PTP
    still-image interface, or marked by libgphoto2's rules) want the tether unit, given to its group."""
    text = (UNITS / "70-appliance-tether.rules").read_text()
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    for line in lines:
        assert all(RULE.fullmatch(part.strip()) for part in line.split(",")), line
    assert 'ENV{ID_USB_INTERFACES}=="*:060101:*", ENV{APPLIANCE_CAMERA}="1"' in lines
    assert 'ENV{ID_GPHOTO2}=="1", ENV{APPLIANCE_CAMERA}="1"' in lines
    [wants] = [line for line in lines if "SYSTEMD_WANTS" in line]
    assert 'ENV{SYSTEMD_WANTS}+="appliance-tether.service"' in wants and 'TAG+="systemd"' in wants
    assert 'GROUP="appliance"' in wants and 'MODE="0660"' in wants
    labels = set(re.findall(r'GOTO="(\w+)"', text))
    assert labels == set(re.findall(r'LABEL="(\w+)"', text)) == {"appliance_tether_end"}
    assert lines.index(wants) > lines.index('ENV{APPLIANCE_CAMERA}!="1", GOTO="appliance_tether_end"')
    script = (ROOT / "image-build" / "install-appliance.sh").read_text()
    assert "systemd/70-appliance-tether.rules\" /etc/udev/rules.d/" in script


@pytest.mark.parametrize("name", ["second-copy", "faces"])
def test_background_services_run_at_idle_priority(name: str) -> None:
    """They must never delay a publish: idle CPU and I/O scheduling, lowest nice."""
    service = read_unit(f"appliance-{name}.service")["Service"]
    assert (service["Nice"], service["CPUSchedulingPolicy"], service["IOSchedulingClass"]) == (
        "19", "idle", "idle")


def test_target_wants_every_service() -> None:
    target = read_unit("appliance.target")
    wanted = set(target["Unit"]["Wants"].replace(" | ", " ").split())
    assert wanted == {f"appliance-{name}.service" for name in SERVICES}  # not ON_DEMAND ones
    assert target["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="apt install shellcheck")
def test_install_script_is_shellcheck_clean() -> None:
    script = ROOT / "image-build" / "install-appliance.sh"
    result = subprocess.run(["shellcheck", "--severity=style", str(script)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout
    assert script.stat().st_mode & 0o111, "install-appliance.sh must be executable"
