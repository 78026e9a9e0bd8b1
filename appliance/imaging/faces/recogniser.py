"""face-api's face recognition net (the 128-d descriptor, a ResNet-34-like net on 150 x 150 faces)
for ONNX Runtime, and its input made from a photo's pixels as face-api makes it.

face-api 1.7.15's src/faceRecognitionNet: every layer a convolution + bias, a per-channel scale
(multiply, add) and a relu; here the scale is folded into the convolution's filters and bias
once, at build time (the same numbers to float rounding). Its input: each face's crop (the aligned
box, clipped at the photo's borders and floored: the worker's ``pixels.mjs`` cropBoxes) padded to a
square with zeros on both sides (padToSquare, centred), resized bilinearly to 150 x 150 as
TensorFlow.js does, minus the mean RGB, divided by 255.
"""

from __future__ import annotations

import numpy as np

from . import resize

SIZE = 150
MEAN_RGB = np.array([122.782, 117.001, 104.298], np.float32)
MANIFEST = "face_recognition_model-weights_manifest.json"
DIMS = 128
# (layer, kind): face-api's FaceRecognitionNet.forwardInput, in order
LAYERS = (
    ("conv32_1", "residual"), ("conv32_2", "residual"), ("conv32_3", "residual"),
    ("conv64_down", "down"), ("conv64_1", "residual"), ("conv64_2", "residual"), ("conv64_3", "residual"),
    ("conv128_down", "down"), ("conv128_1", "residual"), ("conv128_2", "residual"),
    ("conv256_down", "down"), ("conv256_1", "residual"), ("conv256_2", "residual"),
    ("conv256_down_out", "down"),
)


def build_model(weights: dict[str, np.ndarray]):  # -> onnx.ModelProto
    """The net as an ONNX model: input ``input`` [n, 3, 150, 150] (face_input), output
    ``descriptors`` [n, 128]."""
    from .graph import Graph

    g = Graph()

    def conv(x: str, prefix: str, stride: int, relu: bool, same: bool) -> str:
        """convLayer: conv2d + bias, scale (x w + b), relu; the scale folded into the conv."""
        w = weights[f"{prefix}/scale/weights"]
        y = g.conv(x, weights[f"{prefix}/conv/filters"] * w,
                   weights[f"{prefix}/conv/bias"] * w + weights[f"{prefix}/scale/biases"], stride, same=same)
        return g.op("Relu", y) if relu else y

    def down(size: int, kernel: int) -> int:  # a "valid" window with stride 2
        return (size - kernel) // 2 + 1

    x = g.op("MaxPool", conv("input", "conv32_down", 2, True, False), kernel_shape=[3, 3], strides=[2, 2])
    side = down(down(SIZE, weights["conv32_down/conv/filters"].shape[0]), 3)
    channels = 32
    for name, kind in LAYERS:
        if kind == "residual":
            y = conv(conv(x, f"{name}/conv1", 1, True, True), f"{name}/conv2", 1, False, True)
        else:  # residualDown: the shortcut average-pooled, zero channels added; the conv side zero-padded
            y = conv(conv(x, f"{name}/conv1", 2, True, False), f"{name}/conv2", 1, False, True)
            out_side = down(side, weights[f"{name}/conv1/conv/filters"].shape[0])
            side = down(side, 2)
            out_channels = weights[f"{name}/conv2/conv/filters"].shape[3]
            x = g.op("AveragePool", x, kernel_shape=[2, 2], strides=[2, 2])
            if out_channels != channels:
                x = g.op("Pad", x, g.ints(0, 0, 0, 0, 0, out_channels - channels, 0, 0))
            if out_side != side:  # zero rows below and zero columns right of the conv side
                y = g.op("Pad", y, g.ints(0, 0, 0, 0, 0, 0, side - out_side, side - out_side))
            channels = out_channels
        x = g.op("Relu", g.op("Add", y, x))
    mean = g.op("ReduceMean", x, axes=[2, 3], keepdims=0)
    g.op("MatMul", mean, g.constant(weights["fc"].astype(np.float32)), name="descriptors")
    return g.model("face_api_face_recognition_net", {"input": ["n", 3, SIZE, SIZE]},
                   {"descriptors": ["n", DIMS]})


def face_input(pixels: np.ndarray, crops: list[tuple[int, int, int, int]]) -> np.ndarray:
    """The net's input for faces of a photo (uint8 [h, w, 3]): each crop (x, y, w, h, integers
    inside the photo) padded to a centred square, resized to 150, normalised; float32 NCHW."""
    batch = np.empty((len(crops), SIZE, SIZE, 3), np.float32)
    for i, (x, y, w, h) in enumerate(crops):
        face = pixels[y:y + h, x:x + w].astype(np.float32)
        if h != w:  # padToSquare(isCenterImage): round(diff / 2) after, the rest before
            diff = abs(h - w)
            after = int(np.floor(diff * 0.5 + 0.5))
            side = max(h, w)
            square = np.zeros((side, side, 3), np.float32)
            if h > w:
                square[:, diff - after:diff - after + w] = face
            else:
                square[diff - after:diff - after + h] = face
            face = square
        batch[i] = face if face.shape[0] == SIZE else resize.resize_bilinear(face, SIZE)
    batch = (batch - MEAN_RGB) / np.float32(255)
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))
