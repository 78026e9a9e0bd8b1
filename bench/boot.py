"""Boot to ready: the SD image's userspace booted with systemd-nspawn, against the same system without
the appliance.

Each run is a true first boot: a fresh overlay over (the appliance installed once) over (bookworm +
the image's packages, the boot test's cache), with a venue's appliance.toml in /boot/firmware, in a
network namespace of its own. Measured from the start of systemd-nspawn: the admin answering HTTP on
port 80 from the host, the status LED reaching "ready", and for the baseline (the same packages, no
appliance) `systemctl is-system-running --wait`. Also the resident memory of the appliance's
processes once ready (what a 1 GB Pi has to spare).

Containers skip firmware and kernel: these are userspace figures on this machine's CPU.
Needs root, systemd-nspawn and iproute2; without them it prints a skipped result.

    .venv/bin/python bench/boot.py [--quick] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import describe, report  # bench/machine.py

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "system")]

RSS_SCRIPT = """
import glob
total = 0
for status in glob.glob('/proc/[0-9]*/status'):
    try:
        cmd = open(status[:-6] + 'cmdline', 'rb').read()
        if b'/opt/appliance/venv' in cmd:
            total += int(next(l for l in open(status) if l.startswith('VmRSS:')).split()[1])
    except (OSError, StopIteration):
        pass
print(total // 1024)
"""


def overlay(lowers: list[Path], work: Path) -> Path:
    upper, scratch, merged = work / "upper", work / "work", work / "merged"
    for folder in (upper, scratch, merged):
        folder.mkdir(parents=True)
    lowerdir = ":".join(str(p) for p in lowers)
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    f"lowerdir={lowerdir},upperdir={upper},workdir={scratch}", str(merged)], check=True)
    return merged


def poll(check: object, timeout: float, what: str) -> float:
    """Seconds since ``check`` started being polled until it returned something true (0.1 s steps)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception:  # not up yet (connection refused, no bus)
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


def system_up(container: object) -> float | None:
    """Seconds since start once systemd says the boot finished (early on it cannot answer yet)."""
    state = container.run("systemctl", "is-system-running", "--wait", check=False, timeout=180).stdout
    if state.strip() in ("running", "degraded"):
        return time.monotonic() - container.started
    return None


def boot_once(lowers: list[Path], work: Path, appliance: bool) -> dict[str, float]:
    import requests
    from test_image_boot import BOOT_FILE, ImageContainer, Link

    rootfs = overlay(lowers, work)
    link = Link()
    container = None
    try:
        if appliance:
            (rootfs / "boot/firmware/appliance.toml").write_text(BOOT_FILE.format(host_ip=link.host_ip))
        (rootfs / "etc/NetworkManager/conf.d/99-test-veth.conf").write_text(
            f"[keyfile]\nunmanaged-devices=interface-name:{link.inner_if}\n")
        container = ImageContainer(rootfs, work / "console.log", link)
        figures: dict[str, float] = {}
        if appliance:
            poll(lambda: requests.get(f"http://{link.inner_ip}/health", timeout=2).ok, 120, "the admin")
            figures["admin"] = time.monotonic() - container.started
            poll(lambda: "LED ready" in container.show("appliance-gpio.service").get("StatusText", ""),
                 120, "LED ready")
            figures["ready"] = time.monotonic() - container.started
        figures["system"] = poll(lambda: system_up(container), 180, "the boot to finish")
        if appliance:
            rss = container.run("/opt/appliance/venv/bin/python", "-c", RSS_SCRIPT).stdout
            figures["rss_mb"] = float(rss)
        return figures
    finally:
        if container is not None:
            container.stop()
        link.close()
        subprocess.run(["umount", str(rootfs)], capture_output=True, timeout=60)


def installed_layer(lower: Path, work: Path) -> Path:
    """The appliance and the image settings installed once, as an overlay upper layer."""
    from test_image_boot import nspawn, private_wheelhouse

    wheels = private_wheelhouse(work / "wheels")
    merged = overlay([lower], work / "install")
    try:
        done = subprocess.run(
            nspawn(merged, f"--bind-ro={ROOT}:/src", f"--bind-ro={wheels}:/wheels", "/bin/bash", "-c",
                   "/src/image-build/install-appliance.sh --source /src --wheelhouse /wheels >/dev/null && "
                   "/src/image-build/install-image.sh --source /src --offline >/dev/null"),
            capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])
    finally:
        subprocess.run(["umount", str(merged)], capture_output=True, timeout=60)
    return work / "install" / "upper"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one boot of each (under a minute, warm cache)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    machine = describe()  # the load before this run adds its own
    runs = 1 if args.quick else args.runs
    if os.geteuid() != 0 or not all(shutil.which(t) for t in ("systemd-nspawn", "ip", "nsenter")):
        print("boot bench skipped: needs root, systemd-nspawn and iproute2")
        print(json.dumps({"skipped": True}))
        return 0

    from test_image_boot import image_rootfs

    started = time.monotonic()
    lower = image_rootfs()
    with tempfile.TemporaryDirectory(prefix="bench-boot-") as tmp:
        work = Path(tmp)
        layer = installed_layer(lower, work)
        print(f"setup: {time.monotonic() - started:.0f} s (cache, wheels, install)")
        bare, appliance = [], []
        for i in range(runs):  # interleaved: both see the same machine load
            bare.append(boot_once([lower], work / f"bare-{i}", appliance=False))
            appliance.append(boot_once([layer, lower], work / f"app-{i}", appliance=True))

    def median(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    base = median(bare, "system")
    result = {
        "boot_to_admin_s": round(median(appliance, "admin"), 2),
        "boot_to_ready_s": round(median(appliance, "ready"), 2),
        "bare_boot_s": round(base, 2),
        "appliance_boot_s": round(median(appliance, "system"), 2),
        "ready_vs_bare_boot": round(median(appliance, "ready") / base, 2),
        "services_rss_mb": round(median(appliance, "rss_mb")),
        "runs": runs,
    }
    print(f"\n{'userspace boot (systemd-nspawn, medians of ' + str(runs) + ')':<52} seconds")
    print(f"{'bare bookworm + image packages: boot finished':<52} {result['bare_boot_s']:>6.2f}")
    print(f"{'appliance image: admin answers on port 80':<52} {result['boot_to_admin_s']:>6.2f}")
    print(f"{'appliance image: status LED ready':<52} {result['boot_to_ready_s']:>6.2f}")
    print(f"{'appliance image: boot finished':<52} {result['appliance_boot_s']:>6.2f}")
    print(f"{'ready / bare boot':<52} {result['ready_vs_bare_boot']:>6.2f}x")
    print(f"{'appliance processes resident memory (MB)':<52} {result['services_rss_mb']:>6}")
    result = report(result, machine)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
