"""Photos with faces for the face-search tests, and the face engine they share.

face-api's own demo photos (functions/node_modules/@vladmandic/face-api/demo/sample1..6.jpg, group
photos of 3-5 people) are read where npm put them, never copied into the repository: the package is
MIT but its README states no licence or source for these photos (docs/faces.md).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from appliance.imaging.faces.engine import REPO_MODULES, FaceEngine, FaceEngineError, find_modules

DEMO = REPO_MODULES / "@vladmandic" / "face-api" / "demo"
ROOT = Path(__file__).resolve().parents[2]
FACES_CODE = ROOT / "appliance" / "imaging" / "faces"  # the worker's modules (pixels.mjs, ...)

# The centre (x, y as fractions of the image) of every face in each demo photo, checked by eye on
# the photos with the detected boxes drawn over them, left to right.
FACE_CENTRES: dict[str, list[tuple[float, float]]] = {
    "sample1.jpg": [(0.26, 0.37), (0.49, 0.42), (0.82, 0.25)],
    "sample2.jpg": [(0.23, 0.19), (0.51, 0.25), (0.80, 0.20)],
    "sample3.jpg": [(0.36, 0.34), (0.62, 0.27), (0.83, 0.32)],
    "sample4.jpg": [(0.18, 0.21), (0.39, 0.13), (0.56, 0.20), (0.70, 0.18)],
    "sample5.jpg": [(0.24, 0.72), (0.35, 0.39), (0.45, 0.15), (0.62, 0.23), (0.78, 0.38)],
    "sample6.jpg": [(0.18, 0.40), (0.40, 0.31), (0.66, 0.29), (0.83, 0.27)],
}


def demo_photo(name: str) -> Path:
    """One of face-api's demo photos; skips when npm has not installed the package."""
    path = DEMO / name
    if not path.is_file():
        pytest.skip(f"{path} missing: npm --prefix functions ci")
    return path


def engine_or_skip() -> FaceEngine:
    """A face engine over the repository's node_modules; skips without node or the packages."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    try:
        modules = find_modules(REPO_MODULES)
    except FaceEngineError as exc:
        pytest.skip(str(exc))
    return FaceEngine(modules=modules, timeout=120)


def node_modules() -> Path:
    """The node_modules folder with face-api; skips without node or the packages."""
    modules = engine_or_skip().modules
    assert modules is not None
    return modules


def run_node(script: str, stdin: bytes) -> bytes:
    """Run an ES module script with node (from the repository's root); its standard output."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    done = subprocess.run(["node", "--input-type=module", "-e", script], input=stdin, capture_output=True,
                          timeout=120, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


FACE_API_SCRIPT = """{imports}
import {{ createRequire }} from "node:module";
import path from "node:path";
const require = createRequire(path.join({modules}, "_x.js"));
const tf = require("@tensorflow/tfjs");
const wasm = require("@tensorflow/tfjs-backend-wasm");
const faceapi = require("@vladmandic/face-api/dist/face-api.node-wasm.js");
const folder = (name) => path.dirname(require.resolve(name)) + path.sep;
wasm.setWasmPaths(folder("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"));
await tf.setBackend("wasm");
await faceapi.nets.{net}.loadFromDisk(folder("@vladmandic/face-api/package.json") + "model");
const chunks = []; for await (const c of process.stdin) chunks.push(c);
const stdin = Buffer.concat(chunks);
{body}
"""


def run_face_api(net: str, body: str, stdin: bytes, imports: str = "") -> bytes:
    """Run ``body`` in Node with face-api on TensorFlow.js WASM (``tf``, ``faceapi``), its net
    ``net`` loaded and the standard input read (``stdin``, a Buffer); ``imports``: ES imports."""
    script = FACE_API_SCRIPT.format(imports=imports, modules=json.dumps(str(node_modules())), net=net,
                                    body=body)
    return run_node(script, stdin)
