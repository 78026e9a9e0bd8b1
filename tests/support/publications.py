"""Publications made the real way: real camera samples imported into the buffer, published
through the real pipeline by the publish worker."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Any

from appliance.config import Config
from appliance.ingest.importer import Importer
from appliance.publish.worker import Publisher
from appliance.store import Store


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


def publish(publisher: Publisher, store: Store, photo_id: int, recipe: dict | None = None
            ) -> dict[str, Any]:
    """Request one publication and render it at once (the worker's claim, then process)."""
    pub_id = publisher.request(photo_id, recipe)
    claimed = store.claim_publication(pub_id)
    assert claimed is not None
    publisher.process(claimed)
    pub = store.publication(pub_id)
    assert pub is not None
    return pub


def publish_many(config: Config, store: Store, photo_ids: list[int], count: int | None = None
                 ) -> list[dict[str, Any]]:
    """Request ``count`` publications at once (cycling through the photos), then render each."""
    publisher = Publisher(config, store)
    requested = [publisher.request(pid, {}) for pid in
                 itertools.islice(itertools.cycle(photo_ids), count or len(photo_ids))]
    for pub_id in requested:
        claimed = store.claim_publication(pub_id)
        assert claimed and publisher.process(claimed)
    return [store.publication(pid) for pid in requested]


def publish_samples(config: Config, store: Store, samples: Path, names: list[str]
                    ) -> list[dict[str, Any]]:
    """Import the named samples and publish each once."""
    return publish_many(config, store, import_samples(config, store, samples, names))
