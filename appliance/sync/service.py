"""The sync service: drains the outbox into the bucket until stopped, or once (``appliance sync --once``)."""

from __future__ import annotations

from ..config import Config, ConfigError
from ..lifecycle import Lifecycle
from ..store import Store
from .syncer import Syncer


def run(config: Config, store: Store, service: Lifecycle) -> None:
    """Upload until the service is told to stop; STATUS says online/offline and the queue."""
    try:
        syncer = Syncer(config, store)
    except ValueError as exc:  # bucket not configured: no retry will help
        raise ConfigError(str(exc)) from exc
    service.ready(f"uploading to {config.bucket.bucket} at {config.bucket.endpoint_url}", store)

    def tick() -> None:
        service.alive()
        depth = store.queue_depth()
        online = store.sync_state().get("online")
        where = {None: "connecting", 0: "offline", 1: "online"}.get(online, "online")
        service.status(f"{where}, {depth['jobs']} queued ({depth['bytes'] // 1024} KB)")

    syncer.run(service.running, service.sleep, tick)


def drain_once(config: Config, store: Store) -> int:
    """Upload what is queued now; the number of jobs left (0: the bucket is up to date)."""
    syncer = Syncer(config, store)
    try:
        return syncer.drain_once()
    finally:
        syncer.close()
