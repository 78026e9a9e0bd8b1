"""How the face worker's Node packages reach the Pi: image-build/faces/ pins what the gallery uses,
the image's install step asks for it, and the install script runs `npm ci` on exactly that lockfile."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FACES = ROOT / "image-build" / "faces"
NEEDED = ("@vladmandic/face-api", "@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm")


def test_the_pi_gets_the_versions_the_gallery_uses() -> None:
    """Same model on both sides: the appliance's packages are the functions/ devDependencies'
    resolved versions (the browser's copy), pinned exactly and locked."""
    pinned = json.loads((FACES / "package.json").read_text())["dependencies"]
    locked = json.loads((FACES / "package-lock.json").read_text())["packages"]
    gallery = json.loads((ROOT / "functions" / "package-lock.json").read_text())["packages"]
    assert set(pinned) == set(NEEDED)
    for name in NEEDED:
        key = f"node_modules/{name}"
        assert pinned[name] == locked[key]["version"] == gallery[key]["version"]
    assert locked[""]["dependencies"] == pinned
    assert all(p.get("integrity", "").startswith("sha512-") for key, p in locked.items() if key)


def test_the_image_installs_node_and_the_packages() -> None:
    script = (ROOT / "image-build" / "install-appliance.sh").read_text()
    assert "packages+=(nodejs npm)" in script
    assert 'npm ci --omit=dev --ignore-scripts' in script and '"$PREFIX/faces"' in script
    step = (ROOT / "image-build" / "stage-appliance" / "00-install" / "00-run.sh").read_text()
    assert "install-appliance.sh" in step and "--with-faces" in step
    assert '"$here/faces"' in (ROOT / "image-build" / "build-image.sh").read_text()
    engine = (ROOT / "appliance" / "imaging" / "faces" / "engine.py").read_text()
    assert 'INSTALLED_MODULES = Path("/opt/appliance/faces/node_modules")' in engine
