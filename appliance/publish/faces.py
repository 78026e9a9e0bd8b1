"""The face indexer: scans published photos for faces and publishes each event's face index.

Up to four photos per engine thread (``faces.threads``) per :meth:`FaceIndexer.scan_next` (the worker
computes one per thread side by side), only while no publication is queued (a publisher that is
behind is never slowed; one rendering is not waited for: the indexer runs at idle CPU priority on
the cores the publisher leaves), on the published web-size JPEGs. :meth:`FaceIndexer.refresh` then keeps
each event's face index (``faces.bin``; ``faces/<appliance id>.bin`` in a shared event) in step
with the store: rewritten (atomically) when the faces of its live photos changed, once the event
has no photo left to scan or :data:`INDEX_MAX_WAIT_S` after the first change
(a burst of publishes makes one index), uploaded through the outbox; the manifest names its version
once the bucket confirmed it. Events with face search off have no descriptors, no index and
no ``faces.bin`` (docs/faces.md).
"""

from __future__ import annotations

import hashlib
import logging
import struct
import time
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from ..config import Config
from ..fsutil import atomic_write_bytes
from ..imaging.faces.engine import DetectedFace, FaceEngine, FaceEngineError, FaceWorkerUnavailable, rgb
from ..store import Store
from . import face_index, face_settings, manifest
from .worker import bucket_key

log = logging.getLogger(__name__)

INDEX_MAX_WAIT_S = 30.0  # longest a changed index waits for the event's scans to finish
PHOTOS_PER_THREAD = 4  # a scan's batch: four photos per engine thread, so the engines seldom wait
# for a batch's slowest photo or the next photo's decoding (bench/faces.py: index_keeps_up 1.98
# photos/s with two per thread, 2.8-3.3 with four, the same publisher beside it)
DESCRIPTOR = struct.Struct(f"<{face_index.DIMS}f")


def stored(face: DetectedFace) -> dict[str, Any]:
    """A detected face as the store keeps it (descriptor: 128 float32)."""
    x, y, w, h = face.box
    return {"x": x, "y": y, "w": w, "h": h, "score": face.score,
            "descriptor": DESCRIPTOR.pack(*face.descriptor)}


def encode_index(rows: list[dict[str, Any]]) -> bytes:
    """``faces.bin`` from the store's face rows (``name``, box, descriptor bytes)."""
    names = list(dict.fromkeys(r["name"] for r in rows))
    faces = [face_index.Face(r["name"], (r["x"], r["y"], r["w"], r["h"]),
                             DESCRIPTOR.unpack(r["descriptor"])) for r in rows]
    return face_index.encode(names, faces)


class FaceIndexer:
    """Scans photos with a :class:`FaceEngine` and keeps the events' face indexes published."""

    def __init__(self, config: Config, store: Store, engine: FaceEngine | None = None) -> None:
        self.config = config
        self.store = store
        faces = config.faces
        self.engine = engine or FaceEngine(faces.node, faces.modules, faces.timeout_seconds,
                                           threads=faces.threads)
        self.scanned = 0
        self.last_work = time.monotonic()
        self._seen: dict[int, tuple[Any, ...]] = {}  # event id -> (face signature, name) of its last index
        self._changed: dict[int, float] = {}  # event id -> when its faces first changed since

    def index_path(self, event: dict[str, Any]) -> Path:
        return self.config.folder("web") / event["slug"] / face_settings.index_name(self.store, event["id"])

    def key(self, event: dict[str, Any]) -> str:
        return bucket_key(self.config, event["slug"], face_settings.index_name(self.store, event["id"]))

    def _local_paths(self, event: dict[str, Any]) -> list[Path]:
        """Every index file this appliance may have written for the event in its web folder."""
        folder = self.config.folder("web") / event["slug"]
        return [folder / face_settings.INDEX_NAME,
                folder / face_settings.INDEX_DIR / f"{self.store.appliance_id()}.bin"]

    # -- scanning ------------------------------------------------------------------------------
    def scan_next(self) -> bool:
        """Scan the oldest photos waiting (a batch: :data:`PHOTOS_PER_THREAD` per engine thread);
        False when there is none (or publications are queued)."""
        if self.store.publishing_busy():
            return False
        jobs = self.store.next_face_jobs(self.engine.threads * PHOTOS_PER_THREAD)
        if not jobs:
            return False
        paths = []
        for pub in jobs:
            event = self.store.event(pub["event_id"])
            assert event is not None
            paths.append(self.config.folder("web") / event["slug"] / manifest.photo_key(pub["name"]))
        started = time.monotonic()
        detected = self._detect(paths)
        log.debug("%d photos scanned in %.2f s", len(paths), time.monotonic() - started)
        for pub, (faces, error) in zip(jobs, detected, strict=True):
            self.store.record_faces(pub["id"], pub["published_at"], [stored(f) for f in faces], error)
            if error:
                log.warning("faces of %s not indexed: %s", pub["name"], error)
        self.scanned += len(jobs)
        self.last_work = time.monotonic()
        return True

    def _detect(self, paths: list[Path]) -> list[tuple[list[DetectedFace], str | None]]:
        """The faces of published JPEGs, or why not. After a worker failure each photo is tried
        once more alone with a new worker (so one bad photo fails only itself). Raises
        :class:`FaceWorkerUnavailable` (the photos stay in the queue)."""
        try:
            answers = self.engine.detect_many([lambda p=p: rgb(p) for p in paths])
        except FaceWorkerUnavailable:
            raise
        except FaceEngineError as exc:
            log.warning("face worker failed on %s (%s); trying each once more",
                        ", ".join(p.name for p in paths), exc)
            answers = []
            for path in paths:
                try:
                    answers.extend(self.engine.detect_many([lambda p=path: rgb(p)]))
                except FaceWorkerUnavailable:
                    raise
                except FaceEngineError as again:
                    answers.append(again)
        return [self._outcome(path, answer) for path, answer in zip(paths, answers, strict=True)]

    @staticmethod
    def _outcome(path: Path, answer: list[DetectedFace] | Exception) -> tuple[list[DetectedFace], str | None]:
        if isinstance(answer, (OSError, UnidentifiedImageError, Image.DecompressionBombError)):
            return [], f"cannot read {path.name}: {answer}"
        if isinstance(answer, FaceEngineError):
            return [], str(answer)
        if isinstance(answer, Exception):
            raise answer
        return answer, None

    # -- the published index ---------------------------------------------------------------------
    def refresh(self, force: bool = False) -> int:
        """Bring every event's index in step with the store; returns how many were written or
        removed. ``force`` writes a changed index without waiting for the event's scans."""
        self.store.drop_stale_faces()
        done = 0
        for event in self.store.events():
            if face_settings.load(self.store, event["id"]).enabled:
                done += self._refresh_event(event, force)
            elif self.store.face_index(event["id"]) or any(p.exists() for p in self._local_paths(event)):
                self.remove(event)
                done += 1
        return done

    def _refresh_event(self, event: dict[str, Any], force: bool) -> int:
        event_id, key = event["id"], self.key(event)
        written = 0
        signature = (self.store.face_signature(event_id), key)
        if signature[0] == (0, 0) and self.store.face_index(event_id) is None:
            self._seen[event_id] = signature  # nothing to publish yet: no empty index
        if self._seen.get(event_id) != signature:
            first = self._changed.setdefault(event_id, time.monotonic())
            waited = time.monotonic() - first >= INDEX_MAX_WAIT_S
            if force or waited or not self.store.face_jobs_left(event_id):
                written = self._write(event, key)
                self._seen[event_id] = signature
                del self._changed[event_id]
        if self.store.face_index_confirmed(event_id, key):
            self._manifest_changed(event)  # the bucket has the new index: guests may fetch it
        self._retire_old(event, key)
        return written

    def _retire_old(self, event: dict[str, Any], key: str) -> None:
        """Once the current index is in the bucket, delete those this appliance wrote under another
        key (the event became shared: faces.bin -> faces/<appliance id>.bin)."""
        index = self.store.face_index(event["id"])
        keys = self.store.face_index_keys(event["id"])
        if (not index or index["live_version"] != index["version"] or not keys or keys[-1] != key
                or self.store.job_pending("upload", key) or self.store.pending_manifest(event["id"])):
            return  # the bucket has not (yet) the current index and a manifest naming it
        current = self.index_path(event)
        for path in self._local_paths(event):
            if path != current:
                path.unlink(missing_ok=True)
        for old in keys:
            if old != key and self.store.retire_face_index_key(event["id"], old):
                log.info("face index %s retired (now %s)", old, key)

    def _write(self, event: dict[str, Any], key: str) -> int:
        """Write the event's faces.bin if its content changed and queue its upload."""
        data = encode_index(self.store.event_faces(event["id"], live_only=True))
        digest = hashlib.sha256(data).hexdigest()
        index = self.store.face_index(event["id"])
        path = self.index_path(event)
        if index and index["sha256"] == digest and path.exists():
            return 0
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
        version = self.store.face_index_written(event["id"], digest, key, str(path), len(data))
        log.info("face index of %s: version %d, %d bytes", event["slug"], version, len(data))
        return 1

    def remove(self, event: dict[str, Any]) -> None:
        """Face search is off for the event (or the event goes): its descriptors, its faces.bin in
        the web folder and in the bucket (after a manifest without ``faces``) are deleted."""
        self.store.drop_stale_faces()
        for path in self._local_paths(event):
            path.unlink(missing_ok=True)
        for key in dict.fromkeys([*self.store.face_index_keys(event["id"]), self.key(event)]):
            self.store.forget_face_index(event["id"], key)
        self._seen.pop(event["id"], None)
        self._changed.pop(event["id"], None)
        self._manifest_changed(event)
        log.info("face index of %s removed", event["slug"])

    def _manifest_changed(self, event: dict[str, Any]) -> None:
        folder = self.config.folder("web") / event["slug"]
        folder.mkdir(parents=True, exist_ok=True)
        manifest.write_local(self.store, event["id"], folder)
        key = bucket_key(self.config, event["slug"], manifest.MANIFEST_NAME)
        self.store.enqueue_manifest(event["id"], key)

    def close(self) -> None:
        self.engine.close()
