"""face-api's face detector (ssdMobilenetv1) for ONNX Runtime (native.py runs it), and its input.

The network is built from face-api's own weight files (the TensorFlow.js weights manifest in its
``model/`` folder, dequantised as TensorFlow.js does), with the layout of ``ssd-fused.mjs``:
every layer a convolution with its bias and relu6, the depthwise layers' batch norm folded in,
and face-api's output layer (the boxes decoded against the anchors, the face scores). The worker
takes these boxes and scores as its forward pass's and keeps the best by face-api's own non-max
suppression, so the faces found are face-api's (tests/imaging/test_faces_engine.py compares).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import resize

SIZE = 512  # face-api's detector input: the photo padded to a square, resized to 512 x 512
ANCHORS = 5118  # boxes the network scores (32² x 3 + (16² + 8² + 4² + 2² + 1) x 6)
OUTPUT_BYTES = ANCHORS * (4 + 1) * 4  # float32 boxes [y0, x0, y1, x1], then float32 face scores
EPSILON = np.float32(0.0010000000474974513)  # face-api's batch norm epsilon
MANIFEST = "ssd_mobilenetv1_model-weights_manifest.json"
STRIDE_2 = (2, 4, 6, 12)  # the depthwise layers with stride 2 (face-api's mobileNetV1.ts)


def load_weights(manifest: Path) -> dict[str, np.ndarray]:
    """The tensors of a TensorFlow.js weights manifest (uint8/uint16 quantised: q x scale + min,
    computed in float32 as tfjs-core's io.decodeWeights does)."""
    weights: dict[str, np.ndarray] = {}
    for group in json.loads(manifest.read_text()):
        data = b"".join((manifest.parent / name).read_bytes() for name in group["paths"])
        offset = 0
        for spec in group["weights"]:
            count = int(np.prod(spec["shape"], dtype=np.int64))
            quantised = spec.get("quantization")
            stored = quantised["dtype"] if quantised else spec["dtype"]
            raw = np.frombuffer(data, np.dtype(stored).newbyteorder("<"), count, offset)
            offset += raw.nbytes
            if quantised and stored != "float16":
                scale, low = np.float32(quantised["scale"]), np.float32(quantised["min"])
                values = raw.astype(np.float32) * scale + low
            else:
                values = raw
            weights[spec["name"]] = values.astype(spec["dtype"]).reshape(spec["shape"])
        if offset != len(data):
            raise ValueError(f"{manifest.name}: {len(data) - offset} bytes left over")
    return weights


def build_model(weights: dict[str, np.ndarray]):  # -> onnx.ModelProto
    """The detector network as an ONNX model: input ``input`` [1, 3, 512, 512] (pixels / 127.5 - 1),
    outputs ``boxes`` [5118, 4] (y0, x0, y1, x1 as fractions of the padded square) and ``scores``
    [5118] in face-api's anchor order: what its forward pass hands to non-max suppression."""
    from .graph import Graph

    g = Graph()
    encodings, classes = _network(g, weights)
    _output_layer(g, weights, encodings, classes)
    return g.model("face_api_ssd_mobilenetv1", {"input": [1, 3, SIZE, SIZE]},
                   {"boxes": [ANCHORS, 4], "scores": [ANCHORS]})


def _network(g, weights: dict[str, np.ndarray]) -> tuple[str, str]:  # g: graph.Graph
    """MobileNetV1 and the box predictors (face-api's mobileNetV1.ts, predictionLayer.ts), each
    layer a convolution with bias and relu6: the box encodings [1, 5118, 4] and class logits
    [1, 5118, 3]."""
    zero, six = g.floats(0), g.floats(6)

    def relu6(x: str, hwio: np.ndarray, bias: np.ndarray, stride: int, depthwise: bool = False) -> str:
        return g.op("Clip", g.conv(x, hwio, bias, stride, depthwise=depthwise), zero, six)

    m = "MobilenetV1/"
    x = relu6("input", weights[f"{m}Conv2d_0_pointwise/weights"],
              weights[f"{m}Conv2d_0_pointwise/convolution_bn_offset"], 2)
    features = []
    for i in range(1, 14):
        d = f"{m}Conv2d_{i}_depthwise/"
        k = weights[f"{d}BatchNorm/gamma"] / np.sqrt(weights[f"{d}BatchNorm/moving_variance"] + EPSILON)
        folded = weights[f"{d}depthwise_weights"] * k.reshape(1, 1, -1, 1)
        bias = weights[f"{d}BatchNorm/beta"] - weights[f"{d}BatchNorm/moving_mean"] * k
        x = relu6(x, folded, bias, 2 if i in STRIDE_2 else 1, depthwise=True)
        p = f"{m}Conv2d_{i}_pointwise/"
        x = relu6(x, weights[f"{p}weights"], weights[f"{p}convolution_bn_offset"], 1)
        if i == 11:
            features.append(x)  # the first box predictor's input
    features.append(x)
    for j in range(0, 8, 2):
        for k, stride in ((j, 1), (j + 1, 2)):
            p = f"Prediction/Conv2d_{k}_pointwise/"
            x = relu6(x, weights[f"{p}weights"], weights[f"{p}convolution_bn_offset"], stride)
        features.append(x)
    heads: dict[str, list[str]] = {"BoxEncodingPredictor": [], "ClassPredictor": []}
    for i, feature in enumerate(features):
        for kind, last in (("BoxEncodingPredictor", 4), ("ClassPredictor", 3)):
            p = f"Prediction/BoxPredictor_{i}/{kind}/"
            y = g.conv(feature, weights[f"{p}weights"], weights[f"{p}biases"], 1)
            heads[kind].append(g.op("Reshape", g.op("Transpose", y, perm=[0, 2, 3, 1]), g.ints(1, -1, last)))
    return (g.op("Concat", *heads["BoxEncodingPredictor"], axis=1),
            g.op("Concat", *heads["ClassPredictor"], axis=1))


def _output_layer(g, weights: dict[str, np.ndarray], encodings: str, classes: str) -> None:
    """face-api's outputLayer.ts: the encodings decoded against the anchors (``boxes``), the face
    class's sigmoid (``scores``)."""
    anchors = weights["Output/extra_dim"][0]  # [y0, x0, y1, x1] per anchor
    two = np.float32(2)
    sizes = [anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]]
    centres = [anchors[:, 0] + sizes[0] / two, anchors[:, 1] + sizes[1] / two]
    v = g.ops("Split", [encodings, g.ints(1, 1, 1, 1)], ["v0", "v1", "v2", "v3"], axis=2)
    low, high = [], []
    for i in (0, 1):
        size = g.constant(sizes[i].reshape(1, -1, 1))
        extent = g.op("Mul", g.op("Exp", g.op("Div", v[i + 2], g.floats(5))), size)
        half = g.op("Div", extent, g.floats(2))
        middle = g.op("Add", g.op("Mul", g.op("Div", v[i], g.floats(10)), size),
                      g.constant(centres[i].reshape(1, -1, 1)))
        low.append(g.op("Sub", middle, half))
        high.append(g.op("Add", middle, half))
    rows = g.op("Concat", low[0], low[1], high[0], high[1], axis=2)
    g.op("Reshape", rows, g.ints(ANCHORS, 4), name="boxes")
    logit = g.op("Slice", classes, g.ints(1), g.ints(2), g.ints(2))
    g.op("Reshape", g.op("Sigmoid", logit), g.ints(ANCHORS), name="scores")


def _taps(side: int, extent: int) -> tuple[np.ndarray, np.ndarray, int, int, np.ndarray]:
    """Per output row (or column) of the padded square: the two source indices (clipped into the
    photo), how many of each fall on the photo (the rest read the zero padding: indices only grow)
    and the weight."""
    low, high, weight = resize.taps(side, SIZE)
    last = max(extent - 1, 0)
    return (np.minimum(low, last), np.minimum(high, last), int((low < extent).sum()),
            int((high < extent).sum()), weight)


def detector_input(pixels: np.ndarray) -> np.ndarray:
    """face-api's detector input from a photo's RGB pixels (uint8 [h, w, 3]): zero-padded to a
    square (bottom or right), resized bilinearly to 512 x 512, scaled to [-1, 1]; float32 NCHW.
    The same numbers as ``pixels.mjs`` ``detectorInput``; only the rows and columns the resize
    reads are gathered (a 2048 px photo is never converted whole)."""
    height, width = pixels.shape[:2]
    if not height or not width:
        return np.full((1, 3, SIZE, SIZE), -1, np.float32)
    side = max(width, height)
    top, bottom, on_top, on_bottom, dy = _taps(side, height)
    left, right, on_left, on_right, dx = _taps(side, width)

    def corner(rows: np.ndarray, on_rows: int, columns: np.ndarray, on_columns: int) -> np.ndarray:
        values = np.take(pixels[rows], columns, axis=1).astype(np.float32)
        values[on_rows:] = 0  # the padding below the photo
        values[:, on_columns:] = 0  # the padding right of it
        return values

    out = resize.blend(corner(top, on_top, left, on_left), corner(top, on_top, right, on_right),
                       corner(bottom, on_bottom, left, on_left), corner(bottom, on_bottom, right, on_right),
                       dx, dy)
    out = out / np.float32(127.5) - np.float32(1)
    return np.ascontiguousarray(out.transpose(2, 0, 1)[None], dtype=np.float32)
