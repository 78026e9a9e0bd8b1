"""face-api's detector network built for ONNX Runtime (appliance/imaging/faces/detector.py): its
weights, its input and its outputs against face-api's own code in Node."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support.faces import FACES_CODE, demo_photo, node_modules, run_face_api, run_node

from appliance.imaging.faces import detector
from appliance.imaging.faces.native import NativeNets


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
import {{ detectorInput }} from "{(FACES_CODE / 'pixels.mjs').as_uri()}";
const chunks = []; for await (const c of process.stdin) chunks.push(c);
const out = detectorInput(new Uint8Array(Buffer.concat(chunks)), {size[0]}, {size[1]});
process.stdout.write(Buffer.from(out.buffer));
"""
    theirs = np.frombuffer(run_node(script, image.tobytes()), np.float32).reshape(512, 512, 3)
    mine = detector.detector_input(np.asarray(image))[0].transpose(1, 2, 0)
    np.testing.assert_array_equal(mine, theirs / np.float32(127.5) - np.float32(1))


def test_the_boxes_and_scores_are_face_apis() -> None:
    """The native network's boxes and scores (its output layer included) equal face-api's fused
    TensorFlow.js forward pass (ssd-fused.mjs, itself checked against face-api's own) on a real
    group photo, to float rounding: what non-max suppression then picks from is the same."""
    image = Image.open(demo_photo("sample4.jpg")).convert("RGB")
    native = NativeNets(node_modules()).detect(np.asarray(image))
    assert len(native) == detector.OUTPUT_BYTES
    imports = (f'import {{ preparedInput }} from "{(FACES_CODE / "pixels.mjs").as_uri()}";\n'
               f'import {{ installFusedDetector }} from "{(FACES_CODE / "ssd-fused.mjs").as_uri()}";')
    body = f"""
installFusedDetector(tf, faceapi);
const input = preparedInput(tf, faceapi, new Uint8Array(stdin), {image.width}, {image.height});
const out = faceapi.nets.ssdMobilenetv1.forwardInput(input);
const boxes = Array.from(await out.boxes[0].data());
const scores = Array.from(await out.scores[0].data());
process.stdout.write(JSON.stringify({{ boxes, scores }}));
"""
    got = json.loads(run_face_api("ssdMobilenetv1", body, image.tobytes(), imports))
    theirs_boxes, theirs_scores = np.array(got["boxes"]).reshape(-1, 4), np.array(got["scores"])
    values = np.frombuffer(native, "<f4")
    boxes, scores = values[:detector.ANCHORS * 4].reshape(-1, 4), values[detector.ANCHORS * 4:]
    assert theirs_scores.shape == scores.shape == (detector.ANCHORS,)
    assert np.abs(theirs_scores - scores).max() < 1e-3
    assert np.abs(theirs_boxes - boxes).max() < 1e-3
    assert sorted(np.argsort(-theirs_scores)[:4]) == sorted(np.argsort(-scores)[:4])
    assert (scores > 0.4).sum() >= 4  # the photo's four faces (and their neighbouring anchors)
