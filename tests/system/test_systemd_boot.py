"""Boot test: the appliance installed into a minimal Debian bookworm and booted with systemd as PID 1.

A debootstrapped rootfs is cached as a tarball outside the repo (built on first use, ~1 min); each
run unpacks it, installs a wheel built from this tree (and its dependencies, as wheels) with
image-build/install-appliance.sh, and boots it with ``systemd-nspawn -b``. Then, from the host:
every appliance unit must reach active/running with its STATUS text, a photo dropped on the "card"
goes through the hardened importer, admin (over HTTP from the host), publisher and sync services
into the moto bucket, ``appliance doctor`` inside is happy, journald entries carry the service
field, the polkit rule lets the service user power off, and `systemd-analyze security` figures are
printed for every unit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from support.containers import BOOTING, ROOT, SERVICES, Container, nspawn, rootfs_tarball, wheelhouse
from support.polling import wait_for
from support.services import free_port

MAX_EXPOSURE = 4.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="systemd-nspawn needs root"),
    pytest.mark.skipif(not (shutil.which("systemd-nspawn") and shutil.which("debootstrap")),
                       reason="apt install systemd-container debootstrap"),
]


def camera_like_jpeg(path: Path) -> None:
    from PIL import Image

    image = Image.effect_noise((1600, 1200), 64).convert("RGB")
    exif = Image.Exif()
    exif[0x0110] = "Boot test camera"  # Model
    image.save(path, quality=92, exif=exif)


@pytest.fixture(scope="module")
def booted_system(tmp_path_factory: pytest.TempPathFactory, moto_url: str) -> Iterator[dict[str, Any]]:
    import boto3

    work = tmp_path_factory.mktemp("boot")
    rootfs = work / "rootfs"
    rootfs.mkdir()
    started = time.monotonic()
    tarball = rootfs_tarball()
    wheels = wheelhouse(work / "wheels")
    subprocess.run(["tar", "-C", str(rootfs), "--numeric-owner", "-xf", str(tarball)], check=True,
                   timeout=300)
    bucket = f"boot-{os.getpid()}"
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket=bucket)
    port = free_port()
    (work / "conf").mkdir()
    (work / "conf" / "appliance.toml").write_text(f"""
[importer]
watch = "/srv/card"
poll_seconds = 0.5

[bucket]
endpoint_url = "{moto_url}"
bucket = "{bucket}"
region = "us-east-1"
key_id = "test"
secret = "test"

[admin]
password = "correct horse"
bind = "127.0.0.1:{port}"

[gpio]
mock = true

[event]
slug = "boot-test"
title = "Boot test"
""")
    install = subprocess.run(
        nspawn(rootfs, f"--bind-ro={ROOT}:/src", f"--bind-ro={wheels}:/wheels",
               f"--bind-ro={work / 'conf'}:/conf", "/bin/bash", "/src/image-build/install-appliance.sh",
               "--source", "/src", "--wheelhouse", "/wheels", "--config", "/conf/appliance.toml"),
        capture_output=True, text=True, timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    (rootfs / "srv" / "card" / "DCIM").mkdir(parents=True)
    camera_like_jpeg(rootfs / "srv" / "card" / "DCIM" / "IMG_0001.JPG")
    print(f"\nrootfs ready in {time.monotonic() - started:.0f} s")

    container = Container(rootfs, work / "console.log")
    try:
        wait_for(lambda: container.run("systemctl", "is-system-running", "--wait", check=False,
                                       timeout=120).stdout.strip() in ("running", "degraded"),
                 150, "the container to finish booting", **BOOTING)
        yield {"container": container, "port": port, "bucket": bucket, "moto_url": moto_url,
               "rootfs": rootfs, "console": work / "console.log", "install": install.stdout}
    finally:
        container.stop()


EXPECTED_STATUS = {
    "importer": "watching /srv/card",
    "publisher": "",  # "waiting for publish requests" or counts once something was published
    "sync": "online, 0 queued",
    "gpio": "LED ",
    "admin": "serving the admin on 127.0.0.1:",
    "ftp": "FTP on 0.0.0.0:2121",
    "second-copy": "second copy off",  # no drive label nor bucket prefix configured
    "faces": "indexing faces where Find my photos is on",  # no Node here: it is needed only for work
}


def test_every_unit_reaches_active_with_its_status(booted_system: dict[str, Any]) -> None:
    container: Container = booted_system["container"]

    seen: dict[str, dict[str, str]] = {}

    def all_active() -> dict[str, dict[str, str]] | None:
        states = {name: container.show(f"appliance-{name}.service") for name in SERVICES}
        seen.update(states)
        failed = {n: s for n, s in states.items() if s.get("ActiveState") == "failed"}
        if failed:
            journal = container.run("journalctl", "-b", "--no-pager", "-u", "appliance-*", check=False)
            raise AssertionError(f"failed units: {failed}\n{journal.stdout[-6000:]}")
        ok = all(s.get("ActiveState") == "active" and s.get("SubState") == "running"
                 and EXPECTED_STATUS[n] in s.get("StatusText", "") and s.get("StatusText")
                 for n, s in states.items())
        return states if ok else None

    try:
        states = wait_for(all_active, 120, "every appliance unit active with its STATUS", **BOOTING)
    except AssertionError:
        journal = container.run("journalctl", "-b", "--no-pager", "-u", "appliance-*", check=False)
        print(f"states: {seen}\n{journal.stdout[-6000:]}")
        raise
    print("\nunits in the booted container:")
    for name, state in states.items():
        print(f"  appliance-{name + '.service':<22} {state['ActiveState']}/{state['SubState']}"
              f"  STATUS={state['StatusText']}")
    target = container.run("systemctl", "is-active", "appliance.target", check=False).stdout.strip()
    assert target == "active"
    assert container.run("systemctl", "is-enabled", "appliance.target").stdout.strip() == "enabled"


def test_security_figures_inside_the_booted_system(booted_system: dict[str, Any]) -> None:
    container: Container = booted_system["container"]
    figures = {}
    for name in SERVICES:
        out = container.run("systemd-analyze", "security", "--no-pager", f"appliance-{name}.service",
                            check=False).stdout
        match = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", out)
        assert match, out
        figures[name] = (float(match.group(1)), match.group(2))
    print("\nsystemd-analyze security (booted):")
    for name, (level, verdict) in figures.items():
        print(f"  appliance-{name + '.service':<22} {level:4.1f}  {verdict}")
    assert all(level <= MAX_EXPOSURE for level, _ in figures.values()), figures


FACE_NETS_CHECK = """
from pathlib import Path

import numpy as np
from PIL import Image

from appliance.imaging.faces.native import NativeNets

nets = NativeNets(Path("/usr/local/share/face-check/node_modules"))
image = Image.open("/usr/local/share/face-check/group.jpg").convert("RGB")
scores = np.frombuffer(nets.detect(np.asarray(image)), "<f4")[5118 * 4:]
[descriptor] = nets.describe(np.asarray(image), [(0, 0, 150, 150)])
print(f"face nets: {int((scores > 0.4).sum())} anchors over 0.4, descriptor of {len(descriptor)}")
"""


def test_the_face_nets_run_inside_the_faces_units_sandbox(booted_system: dict[str, Any]) -> None:
    """ONNX Runtime builds and runs face-api's two nets under appliance-faces.service's own
    hardening (its seccomp filter, /proc, MemoryMax, user): a copy of the unit whose ExecStart runs
    them once."""
    container: Container = booted_system["container"]
    model = ROOT / "functions/node_modules/@vladmandic/face-api/model"
    if not model.is_dir():
        pytest.skip("face-api is not installed: npm --prefix functions ci")
    rootfs: Path = booted_system["rootfs"]
    share = rootfs / "usr/local/share/face-check"
    (share / "node_modules/@vladmandic/face-api/model").mkdir(parents=True, exist_ok=True)
    for name in ("ssd_mobilenetv1_model", "face_recognition_model"):
        for suffix in ("-weights_manifest.json", ".bin"):
            shutil.copy(model / f"{name}{suffix}", share / "node_modules/@vladmandic/face-api/model")
    shutil.copy(ROOT / "tests/data/faces/real/fa-sample1.jpg", share / "group.jpg")
    script = "/usr/local/share/face-check/check.py"
    unit = container.run("systemctl", "cat", "appliance-faces.service").stdout
    lines = []
    for line in unit.splitlines():
        key = line.split("=", 1)[0]
        if line.startswith("#") or key in ("NotifyAccess", "WatchdogSec", "Restart", "RestartSec",
                                           "RestartPreventExitStatus", "WantedBy", "PartOf"):
            continue
        replaced = {"Type": "Type=oneshot", "ExecStart": f"ExecStart=/opt/appliance/venv/bin/python {script}",
                    "[Install]": ""}
        lines.append(replaced.get(key, line))
    (share / "check.py").write_text(FACE_NETS_CHECK)
    (rootfs / "etc/systemd/system/face-nets-check.service").write_text("\n".join(lines) + "\n")
    container.run("systemctl", "daemon-reload")
    started = container.run("systemctl", "start", "face-nets-check.service", check=False, timeout=180)
    log = container.run("journalctl", "-b", "--no-pager", "-o", "cat", "-u", "face-nets-check.service",
                        check=False).stdout
    assert started.returncode == 0, started.stderr + log[-4000:]
    found = re.search(r"face nets: (\d+) anchors over 0.4, descriptor of (\d+)", log)
    assert found and int(found.group(1)) >= 3 and found.group(2) == "128", log[-4000:]


def test_a_card_photo_travels_through_the_hardened_services_to_the_bucket(
        booted_system: dict[str, Any]) -> None:
    import boto3

    container: Container = booted_system["container"]
    base = f"http://127.0.0.1:{booted_system['port']}"
    wait_for(lambda: container.show("appliance-importer.service")["StatusText"].find("1 imported") >= 0,
             60, "the importer to import the card photo", **BOOTING)
    session = requests.Session()
    wait_for(lambda: session.get(f"{base}/health", timeout=3).ok, 60, "the admin from the host", **BOOTING)
    page = session.get(f"{base}/login", timeout=5).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert session.post(f"{base}/login", data={"password": "correct horse", "csrf_token": token},
                        timeout=10).ok
    token = re.search(r'name="csrf-token" content="([^"]+)"', session.get(f"{base}/", timeout=5).text
                      ).group(1)
    photos = session.get(f"{base}/api/buffer", timeout=5).json()["photos"]
    assert len(photos) == 1
    res = session.post(f"{base}/api/publish", json={"id": photos[0]["id"], "recipe": {}},
                       headers={"X-CSRFToken": token}, timeout=10)
    assert res.status_code == 202, res.text

    s3 = boto3.client("s3", endpoint_url=booted_system["moto_url"], region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")

    def manifest() -> dict[str, Any] | None:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=booted_system["bucket"]).get("Contents", [])]
        if "events/boot-test/manifest.json" not in keys:
            return None
        body = s3.get_object(Bucket=booted_system["bucket"], Key="events/boot-test/manifest.json")["Body"]
        data = json.loads(body.read())
        return data if data.get("photos") else None

    data = wait_for(manifest, 90, "the manifest listing the photo in the bucket", **BOOTING)
    assert len(data["photos"]) == 1
    assert s3.head_object(Bucket=booted_system["bucket"], Key="events/boot-test/photos/IMG_0001.jpg")
    led: list[str] = []

    def led_ready() -> bool:
        led.append(container.show("appliance-gpio.service")["StatusText"])
        return "LED ready" in led[-1]

    try:
        wait_for(led_ready, 30, "the status LED to show ready (every photo in the bucket)", **BOOTING)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; gpio said {led[-1]!r}") from None


def test_a_camera_frame_over_ftps_reaches_the_hardened_importer(booted_system: dict[str, Any],
                                                                tmp_path: Path) -> None:
    """The FTP unit as installed: an account made with the CLI inside, a frame sent over FTPS from
    the host (the container shares its network), imported into the buffer the admin lists."""
    import ftplib
    import io
    import ssl

    from PIL import Image

    container: Container = booted_system["container"]
    made = container.run("sh", "-c", "printf 'camera secret\\n' | runuser -u appliance -- "
                         "/opt/appliance/venv/bin/appliance ftp-account cam --label 'Boot camera'")
    assert made.returncode == 0, made.stderr
    frame = io.BytesIO()
    Image.effect_noise((640, 480), 40).convert("RGB").save(frame, "JPEG", quality=90)
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the box's self-signed one
    ftp = ftplib.FTP_TLS(context=context)
    wait_for(lambda: ftp.connect("127.0.0.1", 2121, timeout=5), 30, "the FTP server", **BOOTING)
    ftp.login("cam", "camera secret")
    ftp.prot_p()
    ftp.storbinary("STOR IMG_0900.JPG", io.BytesIO(frame.getvalue()))
    ftp.quit()

    def buffered() -> int:
        out = container.run("runuser", "-u", "appliance", "--", "/opt/appliance/venv/bin/appliance",
                            "status", "--json").stdout
        return int(json.loads(out)["buffer"])

    wait_for(lambda: buffered() >= 2, 60, "the frame in the buffer (after the card's photo)", **BOOTING)


def test_doctor_inside_the_box_is_happy(booted_system: dict[str, Any]) -> None:
    container: Container = booted_system["container"]
    result = container.run("/opt/appliance/venv/bin/appliance", "doctor", check=False)
    print("\n" + result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok    units") == len(SERVICES)


def test_journal_entries_carry_the_service_field(booted_system: dict[str, Any]) -> None:
    container: Container = booted_system["container"]
    out = container.run("journalctl", "-b", "-o", "json", "--no-pager", "APPLIANCE_SERVICE=sync").stdout
    entries = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert entries, "no journal entry with APPLIANCE_SERVICE=sync"
    ready = [e for e in entries if "ready" in e.get("MESSAGE", "")]
    assert ready and ready[0]["SYSLOG_IDENTIFIER"] == "appliance-sync"
    assert ready[0]["_SYSTEMD_UNIT"] == "appliance-sync.service" and "CODE_FUNC" in ready[0]


def test_service_user_may_power_off_through_logind(booted_system: dict[str, Any]) -> None:
    container: Container = booted_system["container"]
    answer = container.run("runuser", "-u", "appliance", "--", "busctl", "call",
                           "org.freedesktop.login1", "/org/freedesktop/login1",
                           "org.freedesktop.login1.Manager", "CanPowerOff").stdout.strip()
    assert answer == 's "yes"'
    nobody = container.run("runuser", "-u", "nobody", "--", "busctl", "call", "org.freedesktop.login1",
                           "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                           "CanPowerOff").stdout.strip()
    assert nobody != 's "yes"'  # the rule is for the appliance user only


def test_every_unit_keeps_pinging_the_watchdog(booted_system: dict[str, Any]) -> None:
    """systemd records the last WATCHDOG=1 of each unit; with WatchdogSec=60 pings come every 15 s."""
    container: Container = booted_system["container"]

    def last_pings() -> dict[str, int]:
        pings = {}
        for name in SERVICES:
            out = container.run("systemctl", "show", f"appliance-{name}.service",
                                "--property=WatchdogTimestampMonotonic,WatchdogUSec").stdout
            props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
            assert props["WatchdogUSec"] == "1min", props
            pings[name] = int(props["WatchdogTimestampMonotonic"])
        return pings

    first = last_pings()
    time.sleep(17)
    second = last_pings()
    stale = [name for name in SERVICES if not second[name] > first[name] > 0]
    assert not stale, f"no fresh watchdog ping from {stale}: {first} then {second}"


def test_a_hung_service_is_restarted_by_the_watchdog(booted_system: dict[str, Any]) -> None:
    """SIGSTOP the publisher: no more WATCHDOG=1, so systemd kills and restarts it."""
    container: Container = booted_system["container"]
    unit = "appliance-publisher.service"
    container.run("mkdir", "-p", "/run/systemd/system/appliance-publisher.service.d")
    # /run is a tmpfs inside the container: write the runtime drop-in through nsenter
    container.run("sh", "-c", "printf '[Service]\\nWatchdogSec=3\\nTimeoutAbortSec=2\\n' > "
                  "/run/systemd/system/appliance-publisher.service.d/watchdog.conf")
    container.run("systemctl", "daemon-reload")
    container.run("systemctl", "restart", unit)
    before = wait_for(lambda: (s := container.show(unit))["ActiveState"] == "active" and s, 60,
                      "the publisher to restart with WatchdogSec=3", **BOOTING)
    pid = int(before["MainPID"])
    restarts = int(before["NRestarts"])
    container.run("systemctl", "kill", "--kill-who=main", "--signal=SIGSTOP", unit)
    after = wait_for(lambda: (s := container.show(unit))["ActiveState"] == "active"
                     and int(s["MainPID"]) not in (0, pid) and s, 60, "the watchdog to restart it", **BOOTING)
    assert int(after["NRestarts"]) == restarts + 1
    journal = container.run("journalctl", "-b", "--no-pager", "-u", unit).stdout
    assert "Watchdog timeout" in journal
    container.run("rm", "-r", "/run/systemd/system/appliance-publisher.service.d")
    container.run("systemctl", "daemon-reload")
    container.run("systemctl", "restart", unit)


def test_zz_long_hold_power_off_works_from_inside_the_gpio_sandbox(booted_system: dict[str, Any]) -> None:
    """What the button's long hold runs (`systemctl poweroff`), as the appliance user with every
    hardening setting of appliance-gpio.service, really powers the box off (last test: it ends it)."""
    container: Container = booted_system["container"]
    unit = (ROOT / "systemd" / "appliance-gpio.service").read_text()
    service = unit.split("[Service]", 1)[1].split("[Install]", 1)[0]
    keep = ("User", "Group", "SupplementaryGroups", "NoNewPrivileges", "CapabilityBoundingSet",
            "PrivateNetwork", "RestrictAddressFamilies", "SystemCallFilter", "SystemCallArchitectures",
            "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "DevicePolicy",
            "DeviceAllow", "ProtectKernelTunables", "ProtectControlGroups", "ProtectProc",
            "RestrictNamespaces", "MemoryDenyWriteExecute", "LockPersonality", "RestrictSUIDSGID")
    props = [f"--property={line.strip()}" for line in service.splitlines()
             if line.split("=", 1)[0] in keep]
    assert len(props) >= 20, props
    result = container.run("systemd-run", "--wait", "--collect", "--quiet", "--unit=poweroff-probe",
                           *props, "/usr/bin/systemctl", "poweroff", check=False, timeout=60)
    try:
        code = container.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the container did not power off: {result.stdout}{result.stderr}") from None
    assert code == 0
