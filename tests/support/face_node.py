"""The appliance's face model under Node (tests/support/face_node.mjs), driven from Python.

A stand-in for the appliance's face worker in the tests and bench/faces.py: PIL decodes, Node
(face-api node-wasm, ssdMobilenetv1 + faceLandmark68Net + faceRecognitionNet) detects and describes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

SCRIPT = Path(__file__).with_name("face_node.mjs")
MODULES = Path(__file__).resolve().parents[2] / "functions" / "node_modules"


def available() -> str | None:
    """Why the Node face model cannot run here, or None when it can."""
    if not shutil.which("node"):
        return "node is not installed"
    if not (MODULES / "@vladmandic" / "face-api" / "model").is_dir():
        return "functions/node_modules has no @vladmandic/face-api (run npm ci in functions/)"
    return None


class FaceNode:
    """One long-lived Node process with the model loaded. Use as a context manager."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="face-node-")

    def __enter__(self) -> FaceNode:
        self._proc = subprocess.Popen(["node", str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True)
        ready = json.loads(self._proc.stdout.readline() or "{}")  # type: ignore[union-attr]
        if not ready.get("ready"):
            raise RuntimeError("the Node face model did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc:
            self._proc.stdin.close()  # type: ignore[union-attr]
            self._proc.wait(timeout=30)
        self._tmp.cleanup()

    def faces(self, image: Image.Image | Path) -> dict[str, Any]:
        """{"faces": [{"box": [x, y, w, h] fractions, "score", "descriptor"}], "ms"} of one image."""
        img = ImageOps.exif_transpose(Image.open(image)) if isinstance(image, Path) else image
        img = img.convert("RGB")
        raw = Path(self._tmp.name) / "image.rgb"
        raw.write_bytes(img.tobytes())
        assert self._proc and self._proc.stdin and self._proc.stdout
        self._proc.stdin.write(json.dumps({"rgb": str(raw), "w": img.width, "h": img.height}) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the Node face model exited")
        return json.loads(line)
