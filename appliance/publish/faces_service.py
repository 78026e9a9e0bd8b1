"""The faces service (``appliance faces``): indexes faces of published photos at idle priority and
keeps each event's face index published; its Node worker runs only while there is work."""

from __future__ import annotations

import logging
import time

from ..config import Config
from ..imaging.faces.engine import FaceWorkerUnavailable
from ..lifecycle import Lifecycle, idle_priority
from ..store import Store
from .faces import FaceIndexer

log = logging.getLogger(__name__)

UNAVAILABLE_RETRY_S = 60.0  # no node or no node_modules: look again this often (photos stay queued)
BEHIND_PUBLISHER_S = 0.25  # photos to index but publications queued: look again this soon


def run(config: Config, store: Store, service: Lifecycle) -> None:
    """Index faces until the service is told to stop."""
    idle_priority()  # the unit asks for idle CPU and I/O too; this covers `appliance demo`
    indexer = FaceIndexer(config, store)
    indexer.engine.heartbeat = service.alive  # a photo (or the worker's start) may take a while
    service.ready("indexing faces where Find my photos is on", store)
    retry_at = 0.0
    try:
        while service.running():
            service.alive()
            worked = False
            if time.monotonic() >= retry_at:
                try:
                    worked = indexer.scan_next()
                except FaceWorkerUnavailable as exc:
                    log.error("face worker unavailable: %s", exc)
                    service.status(f"face worker unavailable: {exc}")
                    retry_at = time.monotonic() + UNAVAILABLE_RETRY_S
            indexer.refresh()
            if worked:
                service.status(f"{indexer.scanned} photos scanned, {store.face_jobs_left()} waiting")
                continue
            if indexer.engine.running and time.monotonic() - indexer.last_work >= config.faces.idle_seconds:
                log.info("no faces to index: stopping the face worker")
                indexer.engine.close()
            wait = config.faces.poll_seconds
            if store.publishing_busy() and store.face_jobs_left() > 0:
                wait = min(wait, BEHIND_PUBLISHER_S)  # the publisher will soon be done with its queue
            service.sleep(wait)
    finally:
        indexer.close()
