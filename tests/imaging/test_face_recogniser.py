"""face-api's recognition net built for ONNX Runtime (appliance/imaging/faces/recogniser.py): its
input and its descriptors against face-api's own code in Node, on real faces."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image
from support.faces import demo_photo, node_modules, run_face_api

from appliance.imaging.faces import recogniser
from appliance.imaging.faces.native import NativeNets

# The four faces of sample4.jpg (1920 x 1448) cropped in every shape the net meets: taller than wide
# (an odd difference: padToSquare's rounding), wider than tall (even), square, exactly the net's
# size, one at the photo's top border, and the first face again, cropped a little wider.
CROPS = [(266, 194, 160, 215), (649, 118, 200, 150), (985, 200, 180, 180), (1269, 186, 150, 150),
         (669, 0, 161, 150), (258, 186, 176, 231)]

CUT = """
const image = tf.tensor3d(Int32Array.from(stdin), [{height}, {width}, 3], "int32");
const crops = {crops}.map(([x, y, w, h]) => tf.slice(image, [y, x, 0], [h, w, 3]));
"""


def face_api(image: Image.Image, body: str) -> bytes:
    """``body`` run on the CROPS of ``image`` (``crops``: int32 tensors) with face-api's recognition net."""
    cut = CUT.format(height=image.height, width=image.width, crops=json.dumps(CROPS))
    return run_face_api("faceRecognitionNet", cut + body, image.tobytes())


def test_the_input_is_face_apis_batch_tensor() -> None:
    """face_input equals face-api's NetInput.toBatchTensor(150, true) of the same crops, minus the
    mean RGB, over 255 (FaceRecognitionNet.forwardInput), bit for bit."""
    image = Image.open(demo_photo("sample4.jpg")).convert("RGB")
    body = """
const input = await faceapi.toNetInput(crops);
const batch = tf.cast(input.toBatchTensor(150, true), "float32");
const fill = (m) => tf.fill([...batch.shape.slice(0, 3), 1], m, "float32");
const mean = tf.concat([122.782, 117.001, 104.298].map(fill), 3);
const normalised = tf.div(tf.sub(batch, mean), 255);
process.stdout.write(Buffer.from((await normalised.data()).buffer));
"""
    theirs = np.frombuffer(face_api(image, body), np.float32).reshape(len(CROPS), 150, 150, 3)
    mine = recogniser.face_input(np.asarray(image), CROPS).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(mine, theirs)


def cosine(a, b) -> float:
    return float(np.dot(a, b) / math.sqrt(np.dot(a, a) * np.dot(b, b)))


def test_the_descriptors_are_face_apis() -> None:
    """The native net's descriptors of real faces equal face-api's computeFaceDescriptor (cosine
    > 0.99999, lengths within 1e-4), and tell different people apart as face-api's do."""
    image = Image.open(demo_photo("sample4.jpg")).convert("RGB")
    body = """
const descriptors = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(crops);
process.stdout.write(JSON.stringify(descriptors.map((d) => Array.from(d))));
"""
    theirs = json.loads(face_api(image, body))
    mine = NativeNets(node_modules()).describe(np.asarray(image), CROPS)
    assert len(mine) == len(theirs) == len(CROPS)
    for a, b in zip(mine, theirs, strict=True):
        assert len(a) == recogniser.DIMS
        assert cosine(a, b) > 0.99999
        assert abs(math.dist(a, [0] * 128) - math.dist(b, [0] * 128)) < 1e-4
    # the same person cropped twice (crops 0 and 5) is nearer than any two of the four people
    others = min(math.dist(mine[i], mine[j]) for i in range(4) for j in range(i + 1, 4))
    assert math.dist(mine[0], mine[5]) < 0.3 < others


def test_a_model_folder_without_the_weights_fails_clearly(tmp_path: Path) -> None:
    from appliance.imaging.faces.native import built_model

    try:
        built_model("recogniser", tmp_path)
    except RuntimeError as exc:
        assert "building the recogniser failed" in str(exc) and "face_recognition_model" in str(exc)
    else:
        raise AssertionError("a model was built without weights")
