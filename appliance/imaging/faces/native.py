"""face-api's detector and recognition nets run natively by ONNX Runtime, for the face engine.

On TensorFlow.js's WASM backend the two nets are ~90 % of a group photo's indexing (the detector
~360 ms of one core at 512 x 512, the descriptor ~30 ms a face: convolutions at WASM SIMD's
speed). ONNX Runtime runs the same nets with the CPU's own vector units (AVX2/FMA here, NEON on
a Pi) several times faster. The Node worker keeps what is face-api's own logic: non-max
suppression, the landmarks net, the alignment of each face (``worker.mjs``).

The models are built from face-api's weight files in a child process (``python -m
appliance.imaging.faces.native <kind> <manifest>``): building them (onnx, the weights in three
layouts) takes ~150 MB that the long-lived faces service would otherwise keep.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from . import detector, recogniser

BUILD_TIMEOUT_S = 120.0  # the child process building a model (a few seconds on a Pi)
BUILDERS = {"detector": (detector.MANIFEST, detector.build_model),
            "recogniser": (recogniser.MANIFEST, recogniser.build_model)}


def built_model(kind: str, model_dir: Path) -> bytes:
    """A serialised ONNX model (``detector`` or ``recogniser``), built in a child process."""
    done = subprocess.run([sys.executable, "-m", __name__, kind, str(model_dir)], capture_output=True,
                          timeout=BUILD_TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"building the {kind} failed: {done.stderr.decode(errors='replace')[-500:]}")
    return done.stdout


class NativeNets:
    """The two nets on ONNX Runtime's CPU provider, each run on the thread that asks (no thread
    pool spinning beside the worker's engines): :meth:`detect` before a frame goes to the worker,
    :meth:`describe` on the crops the worker answers with."""

    def __init__(self, modules: Path) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.enable_mem_pattern = False  # no buffers planned per thread for the largest run: -30 MB
        model_dir = modules / "@vladmandic" / "face-api" / "model"
        self.sessions = {kind: onnxruntime.InferenceSession(built_model(kind, model_dir), options,
                                                            providers=["CPUExecutionProvider"])
                         for kind in BUILDERS}
        self.version = onnxruntime.__version__

    def detect(self, pixels: np.ndarray) -> bytes:
        """The detector's outputs for a photo's RGB pixels (uint8 [h, w, 3]): 5118 x 4 boxes then
        5118 scores, float32 little-endian (what the worker reads after the frame's pixels)."""
        boxes, scores = self.sessions["detector"].run(None, {"input": detector.detector_input(pixels)})
        return boxes.astype("<f4").tobytes() + scores.astype("<f4").tobytes()

    def describe(self, pixels: np.ndarray, crops: list[tuple[int, int, int, int]]) -> list[tuple[float, ...]]:
        """The 128-d descriptors of faces of a photo (uint8 [h, w, 3]), one per crop (x, y, w, h)."""
        if not crops:
            return []
        [descriptors] = self.sessions["recogniser"].run(None, {"input": recogniser.face_input(pixels, crops)})
        return [tuple(float(v) for v in row) for row in descriptors]


def native_nets(modules: Path) -> NativeNets | None:
    """:class:`NativeNets`, or None where ONNX Runtime is not installed (the worker then runs face-api
    whole, on TensorFlow.js)."""
    try:
        import onnxruntime  # noqa: F401  (onnx itself is imported only by the child building the models)
    except ImportError:
        return None
    return NativeNets(modules)


if __name__ == "__main__":  # python -m appliance.imaging.faces.native <kind> <model dir>: the model's bytes
    manifest, build = BUILDERS[sys.argv[1]]
    sys.stdout.buffer.write(build(detector.load_weights(Path(sys.argv[2]) / manifest)).SerializeToString())
