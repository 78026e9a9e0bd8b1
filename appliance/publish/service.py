"""The publisher service: applies the auto-publish rules and renders queued publications, keeping a
burst's image memory between photos."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ..config import Config
from ..lifecycle import Lifecycle
from ..store import Store
from . import heap
from .autopublish import AutoPublisher
from .worker import Publisher

log = logging.getLogger(__name__)
IDLE_SLICE_S = 0.05  # idle: how often to look for commits by other services (PRAGMA data_version)


def run(config: Config, store: Store, service: Lifecycle) -> None:
    """Publish until the service is told to stop."""
    publisher = Publisher(config, store)
    auto = AutoPublisher(store, publisher)
    auto_at = 0.0
    store.release_stale_claims(older_than_s=0)
    burst = heap.Burst()  # the next photo of a burst reuses this one's buffers
    if not burst.keeping:
        log.info("not 64-bit glibc: freed image memory is not kept")
    service.ready("waiting for publish requests", store)
    while service.running():
        service.alive()
        if time.monotonic() - auto_at >= config.publish.poll_seconds:  # also between busy renders
            auto_at = time.monotonic()
            try:
                auto.tick()
            except Exception:  # a locked store, a bad row: the next tick tries again, publishing
                log.exception("auto-publish tick failed")  # goes on
        if publisher.run_once():
            burst.worked()
            status = store.status()
            service.status(f"{status['published']} published, {status['publishing']} waiting, "
                           f"{status['failed']} failed")
            continue
        burst.idle()  # the burst is over: the memory kept for it goes back to the system
        if wait_for_commit(store, config.publish.poll_seconds, service.running, service.sleep):
            auto_at = 0.0  # a photo recorded or a publish requested: the rules look at it now


def wait_for_commit(store: Store, seconds: float, running: Callable[[], bool],
                    sleep: Callable[[float], object]) -> bool:
    """Wait ``seconds``, or until another service commits (the importer records a photo, the
    admin requests a publish): True then. A frame imported is looked at within ``IDLE_SLICE_S``,
    not a poll later, and an import with auto-publish keeps both cores busy (import, publish)."""
    deadline = time.monotonic() + seconds
    seen = store.data_version()
    while running() and time.monotonic() < deadline:
        sleep(min(IDLE_SLICE_S, max(0.0, deadline - time.monotonic())))
        if store.data_version() != seen:
            return True
    return False
