"""`appliance doctor` against real folders and a moto S3 server over HTTP, as a subprocess."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.config import write_config

ROOT = Path(__file__).resolve().parents[2]


def doctor(config: Path, *extra: str) -> tuple[int, list[dict[str, Any]]]:
    result = subprocess.run(
        [sys.executable, "-m", "appliance", "--config", str(config), "doctor", "--json", *extra],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return result.returncode, json.loads(result.stdout)


def by_check(findings: list[dict[str, Any]], check: str) -> list[dict[str, Any]]:
    return [f for f in findings if f["check"] == check]


def test_healthy_box(tmp_path: Path, moto_url: str, bucket: str) -> None:
    config = write_config(tmp_path, moto_url, bucket)
    (tmp_path / "data").mkdir()
    code, findings = doctor(config)
    assert code == 0, findings
    assert by_check(findings, "bucket")[0]["level"] == "ok"
    assert by_check(findings, "config")[0]["level"] == "ok"
    assert {f["level"] for f in by_check(findings, "space")} == {"ok"}
    assert by_check(findings, "gpio")[0]["level"] == "skip"  # mock pins
    units = by_check(findings, "units")
    if not Path("/run/systemd/system").is_dir():
        assert units[0]["level"] == "skip"


def test_text_report_names_the_problem_and_the_fix(tmp_path: Path, moto_url: str) -> None:
    config = write_config(tmp_path, moto_url, "no-such-bucket-here")
    result = subprocess.run([sys.executable, "-m", "appliance", "--config", str(config), "doctor"],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 1
    assert "FAIL  bucket   bucket no-such-bucket-here at" in result.stdout
    assert "fix: create it, or fix bucket.bucket" in result.stdout


def test_unreachable_endpoint_is_a_warning_not_a_failure(tmp_path: Path, bucket: str) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9", bucket)
    code, findings = doctor(config)
    assert by_check(findings, "bucket")[0]["level"] == "warn"
    assert "cannot reach" in by_check(findings, "bucket")[0]["message"]
    assert code == 0


def test_bad_config_is_reported_with_the_key(tmp_path: Path) -> None:
    config = tmp_path / "appliance.toml"
    config.write_text("[gpio]\nstatus_led = 17\nbutton = 17\n")
    code, findings = doctor(config)
    assert code == 1
    assert findings[0]["level"] == "fail" and "gpio.button" in findings[0]["message"]


def test_no_bucket_and_no_password(tmp_path: Path) -> None:
    config = tmp_path / "appliance.toml"
    config.write_text('[paths]\ndata_root = "data"\n[gpio]\nmock = true\n')
    code, findings = doctor(config)
    assert code == 1
    assert by_check(findings, "bucket")[0]["message"] == "no bucket configured"
    assert any("no admin password" in f["message"] for f in by_check(findings, "config"))


def test_disk_space_and_broken_folders(tmp_path: Path, moto_url: str, bucket: str) -> None:
    config = write_config(tmp_path, moto_url, bucket)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "state").write_text("not a folder")
    code, findings = doctor(config, "--min-free-mb", str(1 << 40))
    assert code == 1
    space = by_check(findings, "space")
    assert space and space[0]["level"] == "fail" and "needs" in space[0]["message"]
    folders = by_check(findings, "folders")
    assert any(f["level"] == "fail" and "state" in f["message"] for f in folders)
    assert (tmp_path / "data" / "state").read_text() == "not a folder"  # doctor changes nothing


def test_world_readable_config_with_secrets_is_flagged(tmp_path: Path, moto_url: str, bucket: str) -> None:
    config = write_config(tmp_path, moto_url, bucket)
    config.chmod(0o644)
    code, findings = doctor(config)
    assert any("world-readable" in f["message"] and "chmod 640" in f["fix"]
               for f in by_check(findings, "config"))
    config.chmod(0o640)
    code, findings = doctor(config)
    assert not any("world-readable" in f["message"] for f in findings)


def test_gpio_without_a_gpio_chip_is_a_failure_with_a_fix(tmp_path: Path, moto_url: str,
                                                          bucket: str) -> None:
    if glob.glob("/dev/gpiochip*"):
        pytest.skip("this machine has GPIO chips")
    config = write_config(tmp_path, moto_url, bucket)
    config.write_text(config.read_text().replace("mock = true", "mock = false"))
    code, findings = doctor(config)
    gpio = by_check(findings, "gpio")
    assert code == 1 and gpio[0]["level"] == "fail" and "gpio.mock = true" in gpio[0]["fix"]
