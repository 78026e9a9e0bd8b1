"""Frames from a camera on USB in PTP mode, pulled as they are shot ("USB tether").

Why python-gphoto2 (libgphoto2 in process) rather than the ``gphoto2 --wait-event-and-download``
CLI: the camera's events arrive as values (``GP_EVENT_FILE_ADDED`` with the new file's folder and
name), errors as exceptions with libgphoto2's codes, so nothing is parsed from another program's
output; one session stays open between frames; and its wheels (x86_64 and aarch64) bundle
libgphoto2 with its "vusb" virtual PTP camera, which the tests drive through the very code the Pi
runs (no apt package, no real camera needed).

On connecting to the first camera libgphoto2 finds, every file on it is listed. The first time a
camera is met (known by manufacturer, model and serial number) what is already on its card is only
recorded as present (``tether.import_existing = true`` imports it too); on every later connection
the frames not handled yet (shot while it was unplugged or the service was down) are pulled. Then
each ``GP_EVENT_FILE_ADDED`` is pulled: the file is read from the camera into a folder of its own
under ``state/tether/received/`` and imported by one worker thread (:mod:`.received`) through the
same verified import as a card, under the source ``tether <camera>``. A frame is recorded as
handled in the store only once its import ran, so a frame whose download or import was cut off
(the camera unplugged, the service stopped) is pulled again on the next connection, and a frame
already handled never is. Only photos (what :func:`.scan.classify` imports) are read; videos are
recorded and left on the camera. Nothing on the camera is ever deleted or changed: it is only
listed, read and listened to.

A camera that goes away (unplugged, switched off, an I/O error) closes the session; the service
looks for one every ``RETRY_SECONDS`` and, after ``tether.linger_seconds`` without a camera, stops
by itself (udev starts it again when a camera is plugged in).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gphoto2 as gp

from ..config import Config
from ..store import Store
from ..store.tether_frames import FrameKey
from .import_types import ImportReport
from .received import KEPT, Received, ReceivedImporter, outcome
from .scan import classify

log = logging.getLogger(__name__)

EVENT_WAIT_MS = 1000  # one turn of the loop: how long to wait for the camera's next event
RETRY_SECONDS = 2.0  # between looks for a camera when none is connected
RESTORE_SECONDS = 30.0  # between tries to store frames our disk could not take
NOT_A_PHOTO = "not a photo"


class CameraLost(Exception):
    """The camera stopped answering as it should (e.g. a file came back short)."""


@dataclass(frozen=True)
class Frame:
    """A file on the camera as the camera describes it."""

    folder: str
    name: str
    size: int
    mtime: int
    protected: bool = False  # protected in the camera (its delete permission withdrawn)

    @property
    def key(self) -> FrameKey:
        return (self.folder, self.name, self.size, self.mtime)

    @property
    def is_photo(self) -> bool:
        return classify(Path(self.name))[0] is not None


def camera_identity(camera: gp.Camera) -> str:
    """``manufacturer model serial`` as the camera reports them (its name for the store and the
    import's source)."""
    parts = []
    for key in ("manufacturer", "cameramodel", "serialnumber"):
        try:
            parts.append(str(camera.get_single_config(key).get_value()).strip())
        except gp.GPhoto2Error:
            parts.append("")
    if not parts[1]:
        parts[1] = camera.get_abilities().model
    return " ".join(part for part in parts if part)


def frame_info(camera: gp.Camera, folder: str, name: str) -> Frame:
    info = camera.file_get_info(folder, name).file
    size = info.size if info.fields & gp.GP_FILE_INFO_SIZE else 0
    mtime = info.mtime if info.fields & gp.GP_FILE_INFO_MTIME else 0
    protected = bool(info.fields & gp.GP_FILE_INFO_PERMISSIONS
                     and not info.permissions & gp.GP_FILE_PERM_DELETE)
    return Frame(folder, name, int(size), int(mtime), protected)


def list_frames(camera: gp.Camera, folder: str = "/",
                each: Callable[[], None] = lambda: None) -> list[Frame]:
    """Every file on the camera, all storages and folders (``each`` is called per folder)."""
    each()
    files = camera.folder_list_files(folder)
    frames = [frame_info(camera, folder, files.get_name(i)) for i in range(files.count())]
    folders = camera.folder_list_folders(folder)
    for i in range(folders.count()):
        frames += list_frames(camera, f"{folder.rstrip('/')}/{folders.get_name(i)}", each)
    return frames


def read_frame(camera: gp.Camera, frame: Frame, dest: Path) -> None:
    """Read ``frame`` from the camera into ``dest`` (whole, or not at all).

    The whole file is read in one request (``file_get``): partial reads are not offered by every
    camera (nor by the virtual one the tests use), and a RAW of 25 to 80 MB fits in memory."""
    part = dest.with_name(f".{dest.name}.part")
    try:
        # the bytes are the CameraFile's own memory: it must live until they are written
        camera_file = camera.file_get(frame.folder, frame.name, gp.GP_FILE_TYPE_NORMAL)
        data = camera_file.get_data_and_size()
        if frame.size and len(data) != frame.size:
            raise CameraLost(f"{frame.folder}/{frame.name}: read {len(data)} bytes of {frame.size}")
        with open(part, "wb") as out:
            out.write(data)
        # the camera's protect flag as a card shows it (read-only), for the import to record
        os.chmod(part, 0o444 if frame.protected else 0o644)
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)


def safe_name(name: str) -> str:
    """The camera's file name as a name in one folder: no separator, not hidden, not too long."""
    stem, dot, suffix = name.replace("/", "_").replace("\\", "_").lstrip(".").rpartition(".")
    clean = f"{stem[:100]}{dot}{suffix[:16]}" if dot else suffix[:116]
    return clean or "frame"


def keep_frames_on_the_card(folder: Path) -> None:
    """Point libgphoto2's settings at ``folder/gphoto/settings`` saying ``capturetarget=card``, in
    this process, before it first reads them: without it, libgphoto2 sets some bodies (Canon EOS,
    Panasonic) to keep frames in their memory only, so a frame would exist on the appliance alone.
    With it the card stays the first copy, as without the appliance."""
    settings = folder / "gphoto" / "settings"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text("ptp2=capturetarget=card\n")
    os.environ["XDG_CONFIG_HOME"] = str(folder)


class Tether:
    """One camera at a time: its session, the frames being pulled, the thread importing them."""

    def __init__(self, config: Config, store: Store,
                 status: Callable[[str], None] = lambda text: None) -> None:
        self.config = config
        self.store = store  # the serving thread's connection
        self.status = status
        self.received = config.folder("state") / "tether" / "received"
        self.imports = ReceivedImporter(config, self._imported, name="tether-import")
        self.camera: gp.Camera | None = None
        self.identity = ""
        self.pending: Counter[tuple[str, FrameKey]] = Counter()  # pulled, import not finished
        self.lock = threading.Lock()
        self.pulled = 0
        self.unstored: dict[FrameKey, Frame] = {}  # frames our disk could not take (tried again)
        self.restore_at = 0.0
        self.miss = ""  # why the last look for a camera found none (logged when it changes)
        self.connections = 0  # sessions opened (and caught up) so far
        self.caught_up = False  # this session has pulled what the camera held when it opened
        self.tick: Callable[[], None] = lambda: None  # the watchdog, during long work

    # the session ------------------------------------------------------------------------------
    def connect(self) -> bool:
        """Open the first camera libgphoto2 finds; pull what it holds that is not handled yet."""
        camera = gp.Camera()
        try:
            camera.init()
        except gp.GPhoto2Error as exc:  # none, not in PTP mode, or held by another program
            if exc.string != self.miss:
                self.miss = exc.string
                log.info("no camera to open: %s", exc.string)
            return False
        self.miss = ""
        self.camera, self.identity = camera, camera_identity(camera)
        log.info("camera connected: %s", self.identity)
        self.status(f"{self.identity}: connected, reading its file list")
        self.catch_up()
        self.connections += 1
        self.caught_up = True
        self.store.tether_session(self.identity, True)  # (met by catch_up: its row exists)
        self.status(f"{self.identity}: connected, {self.pulled} frame(s) pulled")
        return True

    def catch_up(self) -> None:
        """Pull the frames on the camera not handled yet (none the first time it is met, unless
        ``tether.import_existing``)."""
        assert self.camera is not None
        frames = list_frames(self.camera, each=self.tick)
        if self.store.tether_camera(self.identity) is None:
            present = [] if self.config.tether.import_existing else [f.key for f in frames]
            self.store.meet_tether_camera(self.identity, present)
            log.info("%s met for the first time: %d file(s) on it %s", self.identity, len(frames),
                     "to import" if not present else "left alone")
        handled = self.store.tether_handled(self.identity)
        for frame in frames:
            if frame.key not in handled:
                self.pull(frame)
                self.tick()

    def next_added(self, timeout_ms: int = EVENT_WAIT_MS) -> Frame | None:
        """Wait for the camera's next event: the file a FILE_ADDED names, else None."""
        assert self.camera is not None
        kind, data = self.camera.wait_for_event(timeout_ms)
        if kind == gp.GP_EVENT_FILE_ADDED:
            return frame_info(self.camera, data.folder, data.name)
        return None

    def wait_once(self, timeout_ms: int = EVENT_WAIT_MS) -> None:
        """One turn: pull the file the camera's next event announces, if any."""
        frame = self.next_added(timeout_ms)
        if frame is not None:
            self.pull(frame, announced=True)
        elif self.unstored and time.monotonic() >= self.restore_at:
            for frame in list(self.unstored.values()):
                self.pull(frame, announced=True)

    def pull(self, frame: Frame, announced: bool = False) -> None:
        """Read ``frame`` into a folder of its own and queue its import.

        A frame listed on connecting whose import is still running is not pulled twice; one the
        camera announces always is (a camera saving to its memory, not a card, may name the next
        frame as it named the last, same size and no time)."""
        assert self.camera is not None
        tag = (self.identity, frame.key)
        with self.lock:
            copies = self.pending[tag]
        if copies and not announced:
            return
        if not frame.is_photo:
            self.store.mark_tether_frames(self.identity, [frame.key], NOT_A_PHOTO)
            return
        folder: Path | None = None
        try:
            self.received.mkdir(parents=True, exist_ok=True)
            # a folder of its own, never one another pull (or a kept file) is in
            slot = hashlib.sha256(repr(tag).encode()).hexdigest()[:16] + "-"
            folder = Path(tempfile.mkdtemp(prefix=slot, dir=self.received))
            dest = folder / safe_name(frame.name)
            read_frame(self.camera, frame, dest)
        except BaseException as exc:
            if folder is not None:
                with contextlib.suppress(OSError):  # its own folder, left empty by read_frame
                    folder.rmdir()
            if not isinstance(exc, OSError):
                raise
            # our disk, not the camera (full, read-only): tried again in a while (and on connecting)
            self.unstored[frame.key] = frame
            self.restore_at = time.monotonic() + RESTORE_SECONDS
            log.error("could not store %s/%s from %s: %s", frame.folder, frame.name, self.identity, exc)
            self.status(f"{self.identity}: could not store {frame.name} ({exc.strerror or exc})")
            return
        self.unstored.pop(frame.key, None)
        with self.lock:
            self.pending[tag] += 1
        self.imports.put(Received(dest, f"tether {self.identity}", tag))
        self.pulled += 1
        log.info("pulled %s/%s from %s", frame.folder, frame.name, self.identity)

    def disconnect(self, reason: str = "") -> None:
        camera, self.camera = self.camera, None
        self.caught_up = False
        self.unstored.clear()  # the next connection lists what is still to take
        if camera is None:
            return
        self.store.tether_session(self.identity, False)
        if reason:
            log.warning("camera %s gone: %s", self.identity, reason)
            self.status(f"{self.identity}: gone ({reason}), waiting for a camera")
        with contextlib.suppress(gp.GPhoto2Error):  # unplugged: nothing left to close
            camera.exit()

    # the import thread ------------------------------------------------------------------------
    def _imported(self, store: Store, item: Received, report: ImportReport | None, safe: bool) -> None:
        """Record the frame as handled once its import ran; a frame the import failed or did not
        reach stays unrecorded (pulled again on the next connection; its received copy is
        imported again on the next start). A kept file's folder is set aside (``.kept``)."""
        done = outcome(report, item.path) if report is not None else None
        try:
            if item.tag is None:  # received by an earlier run: nothing to record but the count
                return
            camera, key = item.tag
            if done is not None:
                store.mark_tether_frames(camera, [key], done)
            if safe:
                store.count_tether_frame(camera)
        finally:
            if done == KEPT:
                with contextlib.suppress(OSError):
                    item.path.parent.rename(item.path.parent.with_name(item.path.parent.name + ".kept"))
            if item.tag is not None:
                with self.lock:
                    self.pending[item.tag] -= 1
                    if self.pending[item.tag] <= 0:
                        del self.pending[item.tag]

    def requeue_received(self) -> None:
        """Import what an earlier run received but did not import (killed, power cut)."""
        for path in sorted(p for p in self.received.glob("*/*") if p.is_file()):
            if not path.parent.name.endswith(".kept"):
                self.imports.put(Received(path, "tether earlier session", None))

    def idle(self) -> bool:
        """No frame is waiting for its import."""
        with self.lock:
            return not self.pending

    # running ----------------------------------------------------------------------------------
    def serve(self, running: Callable[[], bool], tick: Callable[[], None] = lambda: None,
              sleep: Callable[[float], None] = time.sleep) -> None:
        """Pull frames while ``running()`` (calling ``tick`` each turn); stop by itself after
        ``tether.linger_seconds`` without a camera (0: never); then finish the queued imports."""
        linger = self.config.tether.linger_seconds
        self.tick = tick
        self.store.end_tether_sessions()  # what a crashed run left "connected"
        self.imports.start()
        self.requeue_received()
        gone_since = time.monotonic()
        try:
            while running():
                tick()
                try:
                    if self.camera is not None:
                        self.wait_once()
                        continue
                    if self.connect():
                        continue
                except (gp.GPhoto2Error, CameraLost) as exc:
                    self.disconnect(str(exc))
                    gone_since = time.monotonic()
                if linger and time.monotonic() - gone_since >= linger:
                    log.info("no camera for %.0f s: stopping", linger)
                    return
                self.status(f"waiting for a camera ({self.miss})" if self.miss else "waiting for a camera")
                sleep(RETRY_SECONDS)
        finally:
            self.disconnect()
            self.imports.finish()
