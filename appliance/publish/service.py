"""The publisher service: applies the auto-publish rules and renders queued publications, keeping a
burst's image memory between photos."""

from __future__ import annotations

import logging
import time

from ..config import Config
from ..lifecycle import Lifecycle
from ..store import Store
from . import heap
from .autopublish import AutoPublisher
from .worker import Publisher

log = logging.getLogger(__name__)


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
        service.sleep(config.publish.poll_seconds)
