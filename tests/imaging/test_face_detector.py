"""face-api's detector network built for ONNX Runtime (appliance/imaging/faces/detector.py): its
weights, its input and its outputs against face-api's own code in Node."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support.faces import demo_photo, engine_or_skip

from appliance.imaging.faces import detector

ROOT = Path(__file__).resolve().parents[2]
FACES = ROOT / "appliance" / "imaging" / "faces"


def node_modules() -> Path:
    modules = engine_or_skip().modules
    assert modules is not None
    return modules


def run_node(script: str, stdin: bytes) -> bytes:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    done = subprocess.run(["node", "--input-type=module", "-e", script], input=stdin, capture_output=True,
                          timeout=120, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def test_the_weights_are_read_as_tensorflow_js_reads_them() -> None:
    """Every tensor of the manifest, its shape, the whole binary consumed; a known dequantised value
    (face-api's SSD input scaling, Preprocessor/mul/x = 2/255 stored uint8 min 0.00784)."""
    manifest = node_modules() / "@vladmandic" / "face-api" / "model" / detector.MANIFEST
    weights = detector.load_weights(manifest)
    specs = [w for group in json.loads(manifest.read_text()) for w in group["weights"]]
    assert len(weights) == len(specs) == 151
    for spec in specs:
        assert list(weights[spec["name"]].shape) == spec["shape"]
    assert weights["Output/extra_dim"].shape == (1, detector.ANCHORS, 4)
    assert float(weights["Preprocessor/mul/x"]) == pytest.approx(2 / 255, rel=1e-6)
    variance = weights["MobilenetV1/Conv2d_13_depthwise/BatchNorm/moving_variance"]
    assert variance.dtype == np.float32 and (variance > 0).all()


def test_a_manifest_whose_binary_is_longer_is_refused(tmp_path: Path) -> None:
    model = node_modules() / "@vladmandic" / "face-api" / "model"
    for name in (detector.MANIFEST, "ssd_mobilenetv1_model.bin"):
        (tmp_path / name).write_bytes((model / name).read_bytes())
    with (tmp_path / "ssd_mobilenetv1_model.bin").open("ab") as f:
        f.write(b"\0\0\0\0")
    with pytest.raises(ValueError, match="4 bytes left over"):
        detector.load_weights(tmp_path / detector.MANIFEST)


@pytest.mark.parametrize("size", [(2048, 1366), (683, 1024), (37, 41)])
def test_the_input_is_the_workers_detector_input(size: tuple[int, int]) -> None:
    """detector_input equals pixels.mjs detectorInput (scaled to [-1, 1]) for landscape, portrait
    and tiny photos: the same padding and bilinear taps, float32 rounding for rounding."""
    image = Image.open(demo_photo("sample2.jpg")).convert("RGB").resize(size)
    script = f"""
import {{ detectorInput }} from "{(FACES / 'pixels.mjs').as_uri()}";
const chunks = []; for await (const c of process.stdin) chunks.push(c);
const out = detectorInput(new Uint8Array(Buffer.concat(chunks)), {size[0]}, {size[1]});
process.stdout.write(Buffer.from(out.buffer));
"""
    theirs = np.frombuffer(run_node(script, image.tobytes()), np.float32).reshape(512, 512, 3)
    mine = detector.detector_input(image)[0].transpose(1, 2, 0)
    np.testing.assert_array_equal(mine, theirs / np.float32(127.5) - np.float32(1))


def test_the_network_scores_faces_where_face_api_does() -> None:
    """The native network's outputs, decoded by the worker's own code, score the same anchors as
    face-api's fused TensorFlow.js forward pass on a real group photo (within float rounding)."""
    modules = node_modules()
    image = Image.open(demo_photo("sample4.jpg")).convert("RGB")
    native = detector.NativeDetector(modules).outputs(image)
    assert len(native) == detector.OUTPUT_BYTES
    script = f"""
import {{ createRequire }} from "node:module";
import path from "node:path";
import {{ preparedInput }} from "{(FACES / 'pixels.mjs').as_uri()}";
import {{ installFusedDetector }} from "{(FACES / 'ssd-fused.mjs').as_uri()}";
const require = createRequire(path.join({json.dumps(str(modules))}, "_x.js"));
const tf = require("@tensorflow/tfjs");
const wasm = require("@tensorflow/tfjs-backend-wasm");
const faceapi = require("@vladmandic/face-api/dist/face-api.node-wasm.js");
const folder = (name) => path.dirname(require.resolve(name)) + path.sep;
wasm.setWasmPaths(folder("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"));
await tf.setBackend("wasm");
await faceapi.nets.ssdMobilenetv1.loadFromDisk(folder("@vladmandic/face-api/package.json") + "model");
installFusedDetector(tf, faceapi);
const chunks = []; for await (const c of process.stdin) chunks.push(c);
const all = Buffer.concat(chunks);
const pixels = new Uint8Array(all.subarray(0, {image.width * image.height * 3}));
const outputs = new Float32Array(new Uint8Array(all.subarray({image.width * image.height * 3})).buffer);
const net = faceapi.nets.ssdMobilenetv1;
const scores = async (input) => {{
  const r = net.forwardInput(input);
  const s = await r.scores[0].data();
  tf.dispose([...r.boxes, ...r.scores]);
  return s;
}};
const a = await scores(preparedInput(tf, faceapi, pixels, {image.width}, {image.height}));
const b = await scores(preparedInput(tf, faceapi, pixels, {image.width}, {image.height},
  {{ encodings: outputs.subarray(0, {detector.ANCHORS * 4}),
     classes: outputs.subarray({detector.ANCHORS * 4}) }}));
process.stdout.write(JSON.stringify({{ wasm: Array.from(a), native: Array.from(b) }}));
"""
    got = json.loads(run_node(script, image.tobytes() + native))
    wasm, mine = np.array(got["wasm"]), np.array(got["native"])
    assert wasm.shape == mine.shape == (detector.ANCHORS,)
    assert np.abs(wasm - mine).max() < 1e-3
    assert sorted(np.argsort(-wasm)[:4]) == sorted(np.argsort(-mine)[:4])  # the four faces' anchors
    assert (mine > 0.4).sum() >= 4
