"""Helpers shared by the sync tests: publishing real sample photos, reading the bucket, running
the sync service loop in a thread."""

from __future__ import annotations

import itertools
import json
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.config import Config
from appliance.ingest.importer import Importer
from appliance.publish.worker import Publisher
from appliance.store import Store
from appliance.sync.syncer import Syncer


def open_store(config: Config) -> Store:
    config.ensure_folders()
    store = Store(config.db_path)
    store.ensure_event(config.event.slug, config.event.title)
    return store


def import_samples(config: Config, store: Store, samples: Path, names: list[str] | None = None,
                   folder: str = "gps") -> list[int]:
    """Import sample JPEGs into the buffer; returns their photo ids."""
    card = config.folder("state").parent / "card-src"
    card.mkdir(exist_ok=True)
    for source in sorted((samples / folder).glob("*.jpg")):
        if names is None or source.name in names:
            shutil.copy(source, card / source.name)
    Importer(config, store).import_tree(card)
    return [r["id"] for r in store.rows("SELECT id FROM photos ORDER BY id")]


def publish(config: Config, store: Store, photo_ids: list[int], count: int | None = None
            ) -> list[dict[str, Any]]:
    """Publish ``count`` publications (cycling through the photos) with the real pipeline."""
    publisher = Publisher(config, store)
    requested = [publisher.request(pid, {}) for pid in
                 itertools.islice(itertools.cycle(photo_ids), count or len(photo_ids))]
    for pub_id in requested:
        claimed = store.claim_publication(pub_id)
        assert claimed and publisher.process(claimed)
    return [store.publication(pid) for pid in requested]


def publish_samples(config: Config, store: Store, samples: Path, names: list[str]
                    ) -> list[dict[str, Any]]:
    return publish(config, store, import_samples(config, store, samples, names))


def bucket_manifest(s3, bucket: str, event: str = "wedding") -> dict:  # noqa: ANN001
    body = s3.get_object(Bucket=bucket, Key=f"events/{event}/manifest.json")["Body"].read()
    return json.loads(body)


def bucket_keys(s3, bucket: str, prefix: str = "") -> set[str]:  # noqa: ANN001
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys |= {o["Key"] for o in page.get("Contents", [])}
    return keys


def assert_gallery_whole(s3, bucket: str, event: str = "wedding") -> list[str]:  # noqa: ANN001
    """The bucket's manifest references only objects the bucket holds; returns its names."""
    keys = bucket_keys(s3, bucket, f"events/{event}/")
    if f"events/{event}/manifest.json" not in keys:
        return []
    photos = bucket_manifest(s3, bucket, event)["photos"]
    for photo in photos:
        for field in ("src", "thumb", "webp"):
            if photo.get(field):
                assert f"events/{event}/{photo[field]}" in keys, photo
    return [p["name"] for p in photos]


class SyncThread:
    """The sync service loop (``Syncer.run``) in a thread with its own store connection."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        store = Store(self.config.db_path)
        try:
            Syncer(self.config, store).run(lambda: not self.stop.is_set(), self.stop.wait)
        except BaseException as exc:  # noqa: BLE001 - reported by join()
            self.error = exc
        finally:
            store.close()

    def __enter__(self) -> SyncThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.join()

    def join(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "sync loop did not stop"
        if self.error:
            raise self.error


def wait_for(condition: Callable[[], Any], timeout: float, every: float = 0.1,
             check: Callable[[], None] = lambda: None) -> Any:
    """Poll ``condition`` (running ``check`` each turn) until it is truthy or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        check()
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {condition}")
        time.sleep(every)
