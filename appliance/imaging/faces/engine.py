"""The face engine: one long-lived Node worker (``worker.mjs``) owned over its stdin/stdout.

Python decodes the published web-size JPEG to RGB (Pillow) and sends the pixels; the worker runs
face-api (detector, landmarks, 128-d descriptors) on TensorFlow.js's WASM backend and answers with
JSON. The worker starts on first use and is restarted after a crash or a timeout; :meth:`close`
stops it (the faces service does when idle).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import struct
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

log = logging.getLogger(__name__)

WORKER = Path(__file__).with_name("worker.mjs")
INSTALLED_MODULES = Path("/opt/appliance/faces/node_modules")  # image-build/install-appliance.sh
REPO_MODULES = Path(__file__).resolve().parents[3] / "functions" / "node_modules"  # a checkout
NEEDED = ("@vladmandic/face-api", "@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm")
START_TIMEOUT_S = 120.0  # node start-up plus loading the three models (a few seconds on a Pi 5)


class FaceEngineError(RuntimeError):
    """The worker could not be started, crashed, timed out or refused a frame."""


class FaceWorkerUnavailable(FaceEngineError):
    """The worker cannot start at all (no node, no node_modules, models not loading): no photo's fault."""


@dataclass(frozen=True)
class DetectedFace:
    """A face: box (x, y, w, h) as fractions of the image, detector score, 128-d descriptor."""

    box: tuple[float, float, float, float]
    score: float
    descriptor: tuple[float, ...]


def find_modules(configured: Path | None = None) -> Path:
    """The node_modules folder holding face-api and TensorFlow.js (``faces.modules``, else the first
    of the installed one and a checkout's ``functions/node_modules``)."""
    candidates = [configured] if configured else [INSTALLED_MODULES, REPO_MODULES]
    for folder in candidates:
        if all((folder / name / "package.json").is_file() for name in NEEDED):
            return folder
    where = ", ".join(map(str, candidates))
    raise FaceWorkerUnavailable(f"no node_modules with {', '.join(NEEDED)} in {where}")


def rgb(path: Path) -> Image.Image:
    """A JPEG as the browser shows it: EXIF orientation applied, RGB."""
    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


class FaceEngine:
    """Detect faces and compute their descriptors in the Node worker."""

    def __init__(self, node: str = "node", modules: Path | None = None, timeout: float = 180.0,
                 heartbeat: Callable[[], None] = lambda: None) -> None:
        self.node = node
        self.heartbeat = heartbeat  # called about once a second while waiting (the watchdog)
        self.modules = modules
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self._buffer = b""
        self._next_id = 0

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """Start the worker and wait until its models are loaded."""
        if self.running:
            return
        modules = find_modules(self.modules)
        try:
            self.proc = subprocess.Popen([self.node, str(WORKER), str(modules)], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, close_fds=True)
        except OSError as exc:
            raise FaceWorkerUnavailable(f"cannot start {self.node}: {exc}") from exc
        self._buffer = b""
        try:
            self.info = self._message(START_TIMEOUT_S)
        except FaceEngineError as exc:
            raise FaceWorkerUnavailable(f"the face worker did not start: {exc}") from exc
        if not self.info.get("ready"):
            self.close()
            raise FaceWorkerUnavailable(f"the face worker did not start: {self.info}")
        log.info("face worker ready (pid %s, %s)", self.proc.pid, self.info)

    def detect(self, image: Image.Image) -> list[DetectedFace]:
        """Faces in an RGB image, as the detector orders them."""
        self.start()
        assert self.proc is not None and self.proc.stdin is not None
        self._next_id += 1
        header = json.dumps({"id": self._next_id, "width": image.width, "height": image.height}).encode()
        try:
            self.proc.stdin.write(struct.pack("<I", len(header)) + header + image.tobytes())
            self.proc.stdin.flush()
        except OSError as exc:
            self.close()
            raise FaceEngineError(f"the face worker is gone: {exc}") from exc
        answer = self._message(self.timeout)
        if answer.get("id") != self._next_id:
            self.close()
            raise FaceEngineError(f"the face worker answered out of turn: {answer}")
        if "error" in answer:
            raise FaceEngineError(f"the face worker refused the image: {answer['error']}")
        w, h = image.width, image.height
        return [DetectedFace((f["box"][0] / w, f["box"][1] / h, f["box"][2] / w, f["box"][3] / h),
                             float(f["score"]), tuple(float(v) for v in f["descriptor"]))
                for f in answer["faces"]]

    def detect_file(self, path: Path) -> list[DetectedFace]:
        return self.detect(rgb(path))

    def _message(self, timeout: float) -> dict[str, Any]:
        """The worker's next JSON line; a timeout or its exit stops it and raises."""
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], min(1.0, max(0.0, left)))
            self.heartbeat()
            if not ready:
                if time.monotonic() < deadline:
                    continue
                self.close()
                raise FaceEngineError(f"the face worker did not answer within {timeout:g} s")
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                code = self.proc.wait()
                self.proc = None
                raise FaceEngineError(f"the face worker exited ({code})")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError as exc:
            self.close()
            raise FaceEngineError(f"the face worker wrote {line[:200]!r}") from exc

    def close(self) -> None:
        """Stop the worker (end of its input, then a kill if it lingers)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> FaceEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
