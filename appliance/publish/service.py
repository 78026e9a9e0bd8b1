"""The publisher service: renders queued publications, keeping a burst's image memory between photos."""

from __future__ import annotations

import logging

from ..config import Config
from ..lifecycle import Lifecycle
from ..store import Store
from . import heap
from .worker import Publisher

log = logging.getLogger(__name__)


def run(config: Config, store: Store, service: Lifecycle) -> None:
    """Publish until the service is told to stop."""
    publisher = Publisher(config, store)
    store.release_stale_claims(older_than_s=0)
    burst = heap.Burst()  # the next photo of a burst reuses this one's buffers
    if not burst.keeping:
        log.info("not 64-bit glibc: freed image memory is not kept")
    service.ready("waiting for publish requests", store)
    while service.running():
        service.alive()
        if publisher.run_once():
            burst.worked()
            status = store.status()
            service.status(f"{status['published']} published, {status['publishing']} waiting, "
                           f"{status['failed']} failed")
            continue
        burst.idle()  # the burst is over: the memory kept for it goes back to the system
        service.sleep(config.publish.poll_seconds)
