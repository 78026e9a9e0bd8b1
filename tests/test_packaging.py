"""`pip install .` must carry the web assets: admin templates/static and the public gallery."""

from __future__ import annotations

import email.parser
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_contains_web_assets(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
    )
    wheel = next(tmp_path.glob("appliance-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("appliance/web/index.html", "appliance/admin/templates/index.html",
                     "appliance/admin/static/admin.js", "appliance/admin/static/admin.css",
                     "appliance/imaging/faces/worker.mjs", "appliance/imaging/faces/ssd-fused.mjs",
                     "appliance/imaging/faces/pixels.mjs"):
        assert required in names, f"{required} missing from {wheel.name}"
    gallery = {n for n in names if n.startswith("appliance/web/")}
    source = {f"appliance/web/{p.relative_to(ROOT / 'web')}" for p in (ROOT / "web").rglob("*")
              if p.is_file()}
    assert source <= gallery
    metadata = next(n for n in names if n.endswith("METADATA"))
    headers = email.parser.Parser().parsestr(zipfile.ZipFile(wheel).read(metadata).decode())
    requires = {Requirement(r).name: Requirement(r) for r in headers.get_all("Requires-Dist")}
    simd, stock = requires["pillow-simd"].marker, requires["pillow"].marker
    assert simd.evaluate({"platform_machine": "x86_64"})
    assert not simd.evaluate({"platform_machine": "aarch64"})
    assert stock.evaluate({"platform_machine": "aarch64"})
    assert not stock.evaluate({"platform_machine": "x86_64"})
    assert not requires["systemd-python"].marker.evaluate({"sys_platform": "darwin"})
    # pillow-heif requires "pillow": on x86_64 (pillow-simd) the Makefile installs it with --no-deps
    heif = requires["pillow-heif"].marker
    assert heif.evaluate({"platform_machine": "aarch64"})
    assert not heif.evaluate({"platform_machine": "x86_64"})
    assert requires["rawpy"].marker is None
    assert headers["Requires-Python"] == ">=3.11"
