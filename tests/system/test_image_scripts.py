"""Static checks of image-build/: shellcheck on every shell script, the image's units verified by
systemd-analyze, the pi-gen stage's shape, and the boot-file template."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from appliance.device import bootfile

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "image-build"
FILES = IMAGE / "files"
SKIP_DIRS = {".git", ".venv", "node_modules", ".pi-gen", "__pycache__"}


def shell_scripts() -> list[Path]:
    """Every file in the project that is a shell script (by extension or shebang)."""
    found = []
    for path in ROOT.rglob("*"):
        if not path.is_file() or SKIP_DIRS.intersection(path.relative_to(ROOT).parts):
            continue
        if path.suffix == ".sh":
            found.append(path)
            continue
        try:
            head = path.open("rb").readline(100)
        except OSError:
            continue
        if head.startswith(b"#!") and (b"sh" in head.split(b"/")[-1].split()[0] or b"bash" in head):
            found.append(path)
    return sorted(found)


def test_the_scripts_are_found() -> None:
    names = {str(p.relative_to(ROOT)) for p in shell_scripts()}
    assert {"image-build/install-image.sh", "image-build/install-appliance.sh", "image-build/build-image.sh",
            "image-build/stage-appliance/prerun.sh", "image-build/stage-appliance/00-install/00-run.sh",
            ".ci/run"} <= names


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="apt install shellcheck")
@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: str(p.relative_to(ROOT)))
def test_shellcheck_clean_and_executable(script: Path) -> None:
    result = subprocess.run(["shellcheck", "--severity=style", "--external-sources", str(script)],
                            capture_output=True, text=True, timeout=60, cwd=script.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert script.stat().st_mode & 0o111, f"{script.name} must be executable"


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="apt install shellcheck")
def test_shellcheck_does_catch_a_mistake(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/bash\nrm -rf $1/*\n")
    result = subprocess.run(["shellcheck", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "SC2086" in result.stdout


@pytest.fixture(scope="module")
def unit_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch root with the appliance's units, the image's units and drop-in, as installed."""
    root = tmp_path_factory.mktemp("root")
    units = root / "usr/local/lib/systemd/system"
    units.mkdir(parents=True)
    for unit in (ROOT / "systemd").iterdir():
        shutil.copy(unit, units / unit.name)
    shutil.copy(FILES / "appliance-firstboot.service", units)
    shutil.copy(FILES / "appliance-admin.socket", units)
    (units / "appliance-admin.service.d").mkdir()
    shutil.copy(FILES / "appliance-admin-port80.conf", units / "appliance-admin.service.d/port80.conf")
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    bin_dir = root / "opt/appliance/venv/bin"
    bin_dir.mkdir(parents=True)
    entry = shutil.which("appliance") or str(Path(sys.executable).parent / "appliance")
    shutil.copy(entry, bin_dir / "appliance")
    return root


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_image_units_verify_without_a_warning(unit_root: Path) -> None:
    units = unit_root / "usr/local/lib/systemd/system"
    result = subprocess.run(
        ["systemd-analyze", "verify", f"--root={unit_root}", "--man=no",
         str(units / "appliance-firstboot.service"), str(units / "appliance-admin.socket"),
         str(units / "appliance-admin.service")],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout == "", result.stderr + result.stdout


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_port_80_drop_in_changes_nothing_of_the_hardening(unit_root: Path) -> None:
    def exposure() -> str:
        result = subprocess.run(
            ["systemd-analyze", "security", "--offline=true", f"--root={unit_root}", "--no-pager",
             str(unit_root / "usr/local/lib/systemd/system/appliance-admin.service")],
            capture_output=True, text=True, timeout=120)
        return result.stdout.strip().splitlines()[-1]

    with_drop_in = exposure()
    shutil.move(unit_root / "usr/local/lib/systemd/system/appliance-admin.service.d", unit_root / "aside")
    try:
        assert exposure() == with_drop_in and "Overall exposure level" in with_drop_in
    finally:
        shutil.move(unit_root / "aside", unit_root / "usr/local/lib/systemd/system/appliance-admin.service.d")


def test_pi_gen_stage_shape() -> None:
    stage = IMAGE / "stage-appliance"
    assert (stage / "prerun.sh").stat().st_mode & 0o111
    assert "copy_previous" in (stage / "prerun.sh").read_text()
    assert 'IMG_SUFFIX="-appliance"' in (stage / "EXPORT_IMAGE").read_text()
    step = (stage / "00-install" / "00-run.sh").read_text()
    assert "on_chroot" in step
    assert "install-appliance.sh" in step and "install-image.sh" in step
    build = (IMAGE / "build-image.sh").read_text()
    assert 'STAGE_LIST="stage0 stage1 stage2 stage-appliance"' in build
    assert "ARCH=arm64" in build and "ENABLE_SSH=0" in build


def test_the_template_is_valid_toml_and_every_key_is_known() -> None:
    text = (FILES / "appliance.toml").read_text()
    raw = tomllib.loads(text)
    settings = bootfile.read(text)
    unknown = [e for e in settings.errors if "unknown" in e or "not set here" in e]
    assert unknown == []
    assert set(raw) == {"event", "admin", "bucket", "live", "wifi", "system", "gpio"}
    # every commented-out example is valid too once uncommented
    uncommented = "\n".join(line[2:] if re.match(r"^# [a-z_]+ = ", line) else line
                            for line in text.splitlines())
    settings = bootfile.read(uncommented.replace("enabled = false", "enabled = true"))
    assert [e for e in settings.errors if "unknown" in e] == []
