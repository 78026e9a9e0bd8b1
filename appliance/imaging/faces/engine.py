"""The face engine: one long-lived Node worker (``worker.mjs``) owned over its stdin/stdout.

Python decodes the published web-size JPEG to RGB (Pillow), runs face-api's detector on ONNX Runtime
(``native.py``; where it is installed) and sends the pixels with the detector's outputs; the worker
runs face-api's own logic (non-max suppression, landmarks, alignment) on TensorFlow.js's WASM backend
and answers with each face's box and aligned crop, from which Python computes the 128-d descriptor
(face-api's recognition net, on ONNX Runtime). Without ONNX Runtime the worker runs face-api whole
and answers with the descriptors. It runs ``threads`` engines side by side (one core each), so
:meth:`FaceEngine.detect_many` sends several photos before it reads the answers. The worker starts
on first use and is restarted after a crash or a timeout; :meth:`close` stops it (the faces service
does when idle).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import select
import struct
import subprocess
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from .native import NativeNets, native_nets

log = logging.getLogger(__name__)

WORKER = Path(__file__).with_name("worker.mjs")
INSTALLED_MODULES = Path("/opt/appliance/faces/node_modules")  # image-build/install-appliance.sh
REPO_MODULES = Path(__file__).resolve().parents[3] / "functions" / "node_modules"  # a checkout
NEEDED = ("@vladmandic/face-api", "@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm")
START_TIMEOUT_S = 120.0  # node start-up plus loading the three models (a few seconds on a Pi 5)
SEND_TIMEOUT_S = 30.0  # longest the worker's main thread may leave a frame unread (it reads while computing)


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


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 1 << 20  # bytes: larger allocations get pages of their own, returned when freed


def unmap_large_buffers() -> None:
    """Have glibc's malloc give every buffer of 1 MB or more (decoded photos, frames, ONNX Runtime's
    layers) pages of its own, returned to the system when freed. Its default threshold grows
    after the first such free, and then photo-sized buffers stay in the heap (~90 MB more resident
    in Python and ~70 MB in the worker, two engine threads on 2048 px photos). The worker gets the
    same setting through GLIBC_TUNABLES (Node's buffers come from malloc too)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def worker_environment() -> dict[str, str]:
    """The worker's environment: this one, with glibc's mmap threshold fixed as above."""
    tunables = [t for t in os.environ.get("GLIBC_TUNABLES", "").split(":") if t]
    tunables.append(f"glibc.malloc.mmap_threshold={MMAP_THRESHOLD}")
    return {**os.environ, "GLIBC_TUNABLES": ":".join(tunables)}


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
                 heartbeat: Callable[[], None] = lambda: None, threads: int = 1, native: bool = True) -> None:
        if not 1 <= threads <= 16:
            raise ValueError(f"threads must be 1-16, not {threads}")
        self.node = node
        self.threads = threads
        self.heartbeat = heartbeat  # called about once a second while waiting (the watchdog)
        self.modules = modules
        self.timeout = timeout
        self.native = native  # the detector and recognition nets on ONNX Runtime (False: in the worker)
        self.nets: NativeNets | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self._buffer = b""
        self._next_id = 0
        # images are decoded and the detector run on `threads` threads (Pillow and ONNX Runtime
        # release the GIL), sent in order as each is ready, while the worker computes the others
        self._preparing = ThreadPoolExecutor(threads, thread_name_prefix="face-prepare")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """Start the worker and wait until its models are loaded."""
        if self.running:
            return
        modules = find_modules(self.modules)
        unmap_large_buffers()
        if self.native and self.nets is None:
            try:
                self.nets = native_nets(modules)
            except Exception as exc:  # noqa: BLE001  (a model not built: face-api on WASM still works)
                log.warning("face-api's nets cannot run on ONNX Runtime (%s): the worker runs them", exc)
                self.native = False
        try:
            native = ["native"] if self.nets else []  # frames carry the detector's outputs, answers crops
            self.proc = subprocess.Popen([self.node, str(WORKER), str(modules), str(self.threads), *native],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True,
                                         env=worker_environment())
        except OSError as exc:
            raise FaceWorkerUnavailable(f"cannot start {self.node}: {exc}") from exc
        self._buffer = b""
        try:
            self.info = self._message(START_TIMEOUT_S)
        except FaceEngineError as exc:
            raise FaceWorkerUnavailable(f"the face worker did not start: {exc}") from exc
        self.info["nets"] = f"onnxruntime {self.nets.version}" if self.nets else "tfjs-wasm"
        if not self.info.get("ready"):
            self.close()
            raise FaceWorkerUnavailable(f"the face worker did not start: {self.info}")
        log.info("face worker ready (pid %s, %s)", self.proc.pid, self.info)

    def detect(self, image: Image.Image) -> list[DetectedFace]:
        """Faces in an RGB image, as the detector orders them."""
        [answer] = self.detect_many([lambda: image])
        if isinstance(answer, Exception):
            raise answer
        return answer

    def detect_file(self, path: Path) -> list[DetectedFace]:
        return self.detect(rgb(path))

    def detect_many(self, images: list[Callable[[], Image.Image]]) -> list[list[DetectedFace] | Exception]:
        """The faces of several RGB images (each made by its callable, ``threads`` at a time, and
        sent as soon as it is ready: the worker computes while the next are decoded), in the order
        given. An image that cannot be made (its exception) or that the worker refuses (a
        :class:`FaceEngineError`) is that image's answer; a crash or a timeout of the worker raises
        for all. With native nets the images sent are kept until answered (their crops' pixels)."""
        self.start()
        answers: dict[int, list[DetectedFace] | Exception] = {}
        sent: dict[int, np.ndarray | tuple[int, int]] = {}  # the pixels (native nets: the crops') or the size
        order: list[int] = []
        makes = iter(images)
        ahead: deque[Future[tuple[np.ndarray, bytes]]] = deque()  # at most threads + 1 decoded, unsent
        while True:
            while len(ahead) <= self.threads and (make := next(makes, None)) is not None:
                ahead.append(self._preparing.submit(self._prepare, make))
            if not ahead:
                break
            future = ahead.popleft()
            self._next_id += 1
            order.append(self._next_id)
            try:
                pixels, outputs = future.result()
            except Exception as exc:  # noqa: BLE001  (the image's own failure, e.g. a corrupt JPEG)
                answers[self._next_id] = exc
                continue
            sent[self._next_id] = pixels if self.nets else (pixels.shape[1], pixels.shape[0])
            self._send(self._next_id, pixels, outputs)
        described: dict[int, Future[list[DetectedFace] | FaceEngineError]] = {}  # on the threads too
        while len(answers) + len(described) < len(order):
            answer = self._message(self.timeout)
            frame = answer.get("id")
            if frame not in sent:
                self.close()
                raise FaceEngineError(f"the face worker answered out of turn: {answer}")
            described[frame] = self._preparing.submit(self._faces, answer, sent.pop(frame))
        answers.update((frame, future.result()) for frame, future in described.items())
        return [answers[frame] for frame in order]

    def _prepare(self, make: Callable[[], Image.Image]) -> tuple[np.ndarray, bytes]:
        """An image made (decoded) and its detector outputs (b"" when the worker runs the detector)."""
        image = make()
        pixels = np.asarray(image, dtype=np.uint8)  # the one copy: detector input, frame and crops
        return pixels, self.nets.detect(pixels) if self.nets else b""

    def _send(self, frame: int, pixels: np.ndarray, outputs: bytes) -> None:
        """Write one frame (the pixels, then the detector's outputs if computed here), reading the
        worker's answers meanwhile (a pipe full both ways would otherwise block both sides)."""
        assert self.proc is not None and self.proc.stdin is not None
        header = json.dumps({"id": frame, "width": pixels.shape[1], "height": pixels.shape[0],
                             "outputs": len(outputs)}).encode()
        prefix = struct.pack("<I", len(header)) + header
        parts = [memoryview(part).cast("B") for part in (prefix, pixels, outputs) if len(part)]
        fd = self.proc.stdin.fileno()
        os.set_blocking(fd, False)
        deadline = time.monotonic() + SEND_TIMEOUT_S
        while parts:
            if time.monotonic() > deadline:
                self.close()
                raise FaceEngineError(f"the face worker took no frame within {SEND_TIMEOUT_S:g} s")
            readable, writable, _ = select.select([self._out_fd()], [fd], [], 1.0)
            self.heartbeat()
            if readable:
                self._read()
            if writable:
                try:
                    written = os.writev(fd, parts)
                    while written:
                        step = min(written, len(parts[0]))
                        parts[0], written = parts[0][step:], written - step
                        if not parts[0]:
                            parts.pop(0)
                except BlockingIOError:
                    continue
                except OSError as exc:
                    self.close()
                    raise FaceEngineError(f"the face worker is gone: {exc}") from exc

    def _out_fd(self) -> int:
        assert self.proc is not None and self.proc.stdout is not None
        return self.proc.stdout.fileno()

    def _read(self) -> None:
        """What the worker wrote so far, into the buffer; its exit raises."""
        assert self.proc is not None
        chunk = os.read(self._out_fd(), 1 << 16)
        if not chunk:
            code = self.proc.wait()
            self.proc = None
            raise FaceEngineError(f"the face worker exited ({code})")
        self._buffer += chunk

    def _faces(self, answer: dict[str, Any], sent: np.ndarray | tuple[int, int]
               ) -> list[DetectedFace] | FaceEngineError:
        """The worker's answer for an image: its faces, their descriptors computed here from the
        crops it names (native nets; a face whose crop is empty, outside the photo, is dropped)."""
        if "error" in answer:
            return FaceEngineError(f"the face worker refused the image: {answer['error']}")
        w, h = (sent.shape[1], sent.shape[0]) if isinstance(sent, np.ndarray) else sent
        faces = answer["faces"]
        if isinstance(sent, np.ndarray) and self.nets is not None:
            faces = [f for f in faces if f["crop"][2] > 0 and f["crop"][3] > 0]
            descriptors = self.nets.describe(sent, [tuple(f["crop"]) for f in faces])
        else:
            descriptors = [tuple(float(v) for v in f["descriptor"]) for f in faces]
        return [DetectedFace((f["box"][0] / w, f["box"][1] / h, f["box"][2] / w, f["box"][3] / h),
                             float(f["score"]), descriptor)
                for f, descriptor in zip(faces, descriptors, strict=True)]

    def _message(self, timeout: float) -> dict[str, Any]:
        """The worker's next JSON line; a timeout or its exit stops it and raises."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._out_fd()], [], [], min(1.0, max(0.0, left)))
            self.heartbeat()
            if not ready:
                if time.monotonic() < deadline:
                    continue
                self.close()
                raise FaceEngineError(f"the face worker did not answer within {timeout:g} s")
            self._read()
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
