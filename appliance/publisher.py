"""The publish worker: turns queued publications into web files and outbox jobs."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from . import manifest, pipeline
from .config import Config
from .store import Store, utcnow

log = logging.getLogger(__name__)

PHOTO_CACHE = "public, max-age=31536000, immutable"


def base_name(original_name: str) -> str:
    """The published base name of an original: its stem, restricted to safe characters."""
    stem = Path(original_name).stem
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem).strip("_-.")
    return (safe or "photo")[:100]


def bucket_key(config: Config, event_slug: str, relative: str) -> str:
    prefix = config.bucket.prefix.strip("/")
    return f"{prefix}/{event_slug}/{relative}" if prefix else f"{event_slug}/{relative}"


class Publisher:
    """Renders publications with the image pipeline and queues their uploads."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store

    def event_dir(self, slug: str) -> Path:
        return self.config.folder("web") / slug

    def request(self, photo_id: int, recipe: dict[str, Any] | None = None) -> int:
        """Validate the recipe and queue a publication of ``photo_id`` in the current event."""
        parsed = pipeline.Recipe.parse(recipe)
        photo = self.store.photo(photo_id)
        if photo is None:
            raise LookupError(f"no photo {photo_id} in the buffer")
        return self.store.request_publication(
            photo_id, parsed.to_dict(), base_name(photo["original_name"])
        )

    def process(self, publication: dict[str, Any]) -> bool:
        """Render one claimed publication; returns True on success (failure is recorded)."""
        pub_id = publication["id"]
        photo = self.store.photo(publication["photo_id"])
        event = self.store.event(publication["event_id"])
        assert photo is not None and event is not None
        name = publication["name"]
        folder = self.event_dir(event["slug"])
        web_path = folder / manifest.photo_key(name)
        thumb_path = folder / manifest.thumb_key(name)
        try:
            recipe = pipeline.Recipe.parse(json.loads(publication["recipe"]))
            rendered = pipeline.publish_files(
                self.config.folder("buffer") / photo["buffer_path"],
                recipe,
                web_path,
                thumb_path,
                long_edge=self.config.publish.long_edge,
                thumb_edge=self.config.publish.thumb_edge,
                quality=self.config.publish.quality,
            )
        except (pipeline.ImageError, pipeline.RecipeError, OSError) as exc:
            log.warning("publish of %s failed: %s", name, exc)
            self.store.fail_publication(pub_id, str(exc))
            return False
        with self.store.transaction():
            self.store.conn.execute(
                "UPDATE publications SET state = 'published', error = NULL, published_at = ?, "
                "width = ?, height = ?, thumb_width = ?, thumb_height = ?, color = ? "
                "WHERE id = ?",
                (utcnow(), rendered.width, rendered.height, rendered.thumb_width,
                 rendered.thumb_height, rendered.color, pub_id),
            )
            for relative, path in ((manifest.photo_key(name), web_path),
                                   (manifest.thumb_key(name), thumb_path)):
                self.store.enqueue(
                    "upload", event["id"], bucket_key(self.config, event["slug"], relative),
                    publication_id=pub_id, path=str(path), content_type="image/jpeg",
                    cache_control=PHOTO_CACHE, size=path.stat().st_size,
                )
        manifest.write_local(self.store, event["id"], folder)
        log.info("published %s (%dx%d)", name, rendered.width, rendered.height)
        return True

    def run_once(self) -> bool:
        """Process the oldest queued publication; False when there was none."""
        claimed = self.store.claim_publication()
        if claimed is None:
            return False
        self.process(claimed)
        return True

    def unpublish(self, publication_id: int) -> None:
        """Take a photo off the gallery: manifest first, then the bucket objects; files to trash."""
        pub = self.store.publication(publication_id)
        if pub is None:
            raise LookupError(f"no publication {publication_id}")
        if pub["state"] != "published":
            raise ValueError(f"publication {publication_id} is {pub['state']}, not published")
        event = self.store.event(pub["event_id"])
        assert event is not None
        folder = self.event_dir(event["slug"])
        trash = self.config.folder("trash") / event["slug"]
        with self.store.transaction():
            self.store.conn.execute(
                "UPDATE publications SET state = 'unpublished', unpublished_at = ? WHERE id = ?",
                (utcnow(), publication_id),
            )
            self.store.conn.execute(
                "UPDATE jobs SET state = 'cancelled' WHERE publication_id = ? "
                "AND kind = 'upload' AND state = 'pending'",
                (publication_id,),
            )
            self.store.enqueue_manifest(
                event["id"], bucket_key(self.config, event["slug"], manifest.MANIFEST_NAME)
            )
            for relative in (manifest.photo_key(pub["name"]), manifest.thumb_key(pub["name"])):
                self.store.enqueue(
                    "delete", event["id"], bucket_key(self.config, event["slug"], relative),
                    publication_id=publication_id,
                )
        for relative in (manifest.photo_key(pub["name"]), manifest.thumb_key(pub["name"])):
            src = folder / relative
            if src.exists():
                dest = trash / relative
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(src, dest)
        manifest.write_local(self.store, event["id"], folder)
