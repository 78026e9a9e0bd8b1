"""The publish worker: turns queued publications into web files and outbox jobs.

Each publication is rendered and encoded in memory with the one image pipeline, then its files are
written atomically (all or none) into the event's web folder. A photo that cannot be published
fails its own job with a reason the admin shows; the worker keeps going.

The local manifest is coalesced: after a publish it is written only once no other publication of
the event is waiting (or at the latest ``manifest_max_delay`` seconds after the first change), so a
burst of publishes produces one manifest write, not one per photo.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from ..config import Config
from ..fsutil import atomic_write_bytes, clean_temp_files
from ..imaging import full_size, pipeline, watermark
from ..imaging.recipe import Recipe, RecipeError
from ..store import JobKind, PublicationState, Store
from . import credits, manifest, watermark_settings
from .manifest import bucket_key, manifest_keys

log = logging.getLogger(__name__)

PHOTO_CACHE = "public, max-age=31536000, immutable"
MANIFEST_MAX_DELAY_S = 2.0
STALE_TEMP_S = 600  # temp files older than this were left by a crash (none is written that long)
PREVIEW_EDGE = 1024


def base_name(original_name: str) -> str:
    """The published base name of an original: its stem, restricted to safe characters."""
    stem = Path(original_name).stem
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem).strip("_-.")
    return (safe or "photo")[:100]


class Publisher:
    """Renders publications with the image pipeline and queues their uploads."""

    def __init__(self, config: Config, store: Store,
                 manifest_max_delay: float = MANIFEST_MAX_DELAY_S) -> None:
        self.config = config
        self.store = store
        self.manifest_max_delay = manifest_max_delay
        self.manifest_writes = 0
        self._dirty: dict[int, float] = {}  # event id -> when its manifest first went stale
        self._started = False

    def event_dir(self, slug: str) -> Path:
        return self.config.folder("web") / slug

    def request(self, photo_id: int, recipe: dict[str, Any] | None = None, once: bool = False,
                event_id: int | None = None) -> int:
        """Validate the recipe and queue a publication of ``photo_id`` in the current event (or
        ``event_id``; ``once``: never a duplicate nor a rejected photo, see
        ``Store.request_publication``). Without a recipe the photo's draft edit is used."""
        photo = self.store.photo(photo_id)
        if photo is None:
            raise LookupError(f"no photo {photo_id} in the buffer")
        parsed = Recipe.parse(recipe if recipe is not None else json.loads(photo["draft"] or "{}"))
        return self.store.request_publication(
            photo_id, parsed.to_dict(), base_name(photo["original_name"]), once=once, event_id=event_id
        )

    def request_many(self, photo_ids: list[int], recipe: dict[str, Any] | None = None
                     ) -> tuple[int, list[dict[str, Any]]]:
        """Queue publications of many photos in one transaction (a batch; names follow each
        other): each with ``recipe``, or without one its draft edit. A photo not in the buffer,
        already published or publishing, or whose draft is no longer valid is refused on its own.
        Returns (batch id, one result per photo)."""
        explicit = Recipe.parse(recipe).to_dict() if recipe is not None else None
        photos = self.store.photos_for_publish(photo_ids)
        wanted, refused = [], {}
        for photo_id in dict.fromkeys(photo_ids):
            photo = photos.get(photo_id)
            if photo is None:
                wanted.append({"id": photo_id, "recipe": {}, "base": ""})  # refused in the store
                continue
            try:
                edit = explicit if explicit is not None else Recipe.parse(
                    json.loads(photo["draft"] or "{}")).to_dict()
            except (RecipeError, ValueError) as exc:
                refused[photo_id] = f"its draft edit is not valid: {exc}"
                continue
            wanted.append({"id": photo_id, "recipe": edit, "base": base_name(photo["original_name"])})
        return self.store.publish_batch(wanted, refused, recipe, list(dict.fromkeys(photo_ids)))

    def files(self, slug: str, name: str) -> dict[str, Path]:
        """Where a publication's files live: web JPEG, thumbnail, WebP, full size (relative key → path)."""
        folder = self.event_dir(slug)
        keys = (manifest.photo_key(name), manifest.thumb_key(name), manifest.webp_key(name),
                manifest.original_key(name))
        return {key: folder / key for key in keys}

    def process(self, publication: dict[str, Any]) -> bool:
        """Render one claimed publication; returns True on success (a failure is recorded)."""
        pub_id = publication["id"]
        name = publication["name"]
        try:
            return self._process(publication)
        except Exception as exc:  # one bad photo must never stop the worker
            log.exception("publish of %s failed unexpectedly", name)
            self._fail(pub_id, f"internal error: {type(exc).__name__}: {exc}")
            return False

    def _process(self, publication: dict[str, Any]) -> bool:
        pub_id = publication["id"]
        name = publication["name"]
        photo = self.store.photo(publication["photo_id"])
        event = self.store.event(publication["event_id"])
        if photo is None or event is None:
            self._fail(pub_id, "the photo or its event is no longer in the store")
            return False
        paths = self.files(event["slug"], name)
        web_path, thumb_path, webp_path, full_path = paths.values()
        full = manifest.download_size(self.store, event["id"]) == "full"
        publish = self.config.publish
        try:
            recipe = Recipe.parse(json.loads(publication["recipe"]))
            mark = watermark_settings.current(self.store, self.config.folder("state"))
            credit = credits.load(self.store)
            rendered = pipeline.publish_files(
                self.config.folder("buffer") / photo["buffer_path"], recipe, web_path, thumb_path,
                long_edge=publish.long_edge, thumb_edge=publish.thumb_edge, quality=publish.quality,
                watermark=mark, artist=credit.artist, copyright_=credit.copyright,
                webp_path=webp_path if publish.webp else None, webp_quality=publish.webp_quality,
            )
            if full:  # after the web files: what guests see first is never held up by it
                atomic_write_bytes(full_path, full_size.full_size_jpeg(
                    self.config.folder("buffer") / photo["buffer_path"], recipe, watermark=mark,
                    artist=credit.artist, copyright_=credit.copyright))
        except (pipeline.ImageError, RecipeError, watermark.WatermarkError, OSError,
                json.JSONDecodeError) as exc:
            log.warning("publish of %s failed: %s", name, exc)
            self._fail(pub_id, str(exc))
            return False
        extra = ((webp_path, rendered.webp), (full_path, full))
        files = [web_path, thumb_path] + [path for path, wanted in extra if wanted]
        try:
            with self.store.transaction():
                self.store.mark_published(
                    pub_id, width=rendered.width, height=rendered.height,
                    thumb_width=rendered.thumb_width, thumb_height=rendered.thumb_height,
                    color=rendered.color, placeholder=rendered.placeholder, webp=rendered.webp,
                    original=full,
                )
                for path in files:
                    relative = str(path.relative_to(self.event_dir(event["slug"])))
                    self.store.enqueue(
                        JobKind.UPLOAD, event["id"], bucket_key(self.config, event["slug"], relative),
                        publication_id=pub_id, path=str(path),
                        content_type="image/webp" if path.suffix == ".webp" else "image/jpeg",
                        cache_control=PHOTO_CACHE, size=path.stat().st_size,
                    )
        except sqlite3.Error:
            for path in files:  # nothing published without its record
                path.unlink(missing_ok=True)
            raise
        log.info("published %s (%dx%d)", name, rendered.width, rendered.height)
        self.manifest_changed(event["id"])
        return True

    def _fail(self, pub_id: int, error: str) -> None:
        """Record the reason; remove anything an earlier, interrupted attempt left under its name."""
        self.store.fail_publication(pub_id, error)
        pub = self.store.publication(pub_id)
        event = self.store.event(pub["event_id"]) if pub else None
        if pub and event:
            for path in self.files(event["slug"], pub["name"]).values():
                try:
                    path.unlink(missing_ok=True)  # names are never reused: these are only its own
                except OSError as exc:  # e.g. a file where its folder should be
                    log.warning("cannot remove %s: %s", path, exc)

    # -- manifest coalescing ------------------------------------------------------------------
    def manifest_changed(self, event_id: int, now: bool = False) -> None:
        """Note that the event's manifest is stale; write it now or once the burst is over."""
        self._dirty.setdefault(event_id, time.monotonic())
        self.flush_manifests(force=now)

    def flush_manifests(self, force: bool = False) -> int:
        """Write stale manifests whose event has no publication waiting (or waited too long)."""
        written = 0
        for event_id, since in list(self._dirty.items()):
            waiting = self.store.publications_waiting(event_id)
            overdue = time.monotonic() - since >= self.manifest_max_delay
            if not (force or not waiting or overdue):
                continue
            event = self.store.event(event_id)
            if event is not None:
                manifest.write_local(self.store, event_id, self.event_dir(event["slug"]))
                self.manifest_writes += 1
                written += 1
            del self._dirty[event_id]
        return written

    # -- service loop ---------------------------------------------------------------------------
    def run_once(self) -> bool:
        """Process the oldest queued publication; False when there was none."""
        if not self._started:  # after a restart: tidy up and make sure the manifest is current
            self._started = True
            clean_temp_files(self.config.folder("web"), STALE_TEMP_S)  # recent ones: a live writer
            event = self.store.current_event()
            if event is not None:
                self._dirty.setdefault(event["id"], time.monotonic())
        claimed = self.store.claim_publication()
        if claimed is None:
            self.flush_manifests(force=True)
            return False
        self.process(claimed)
        return True

    # -- unpublish -------------------------------------------------------------------------------
    def unpublish(self, publication_id: int) -> None:
        """Take a photo off the gallery: manifest first, then the bucket objects; files to trash."""
        pub = self.store.publication(publication_id)
        if pub is None:
            raise LookupError(f"no publication {publication_id}")
        if pub["state"] != PublicationState.PUBLISHED:
            raise ValueError(f"publication {publication_id} is {pub['state']}, not published")
        self.unpublish_many([pub])

    def unpublish_many(self, pubs: list[dict[str, Any]], on_commit: Any = None) -> None:
        """Unpublish published publications in one transaction (one manifest job per event), then
        move their web files to the trash. ``on_commit()`` runs inside that transaction (e.g. to
        record the batch)."""
        events = {e: self.store.event(e) for e in {p["event_id"] for p in pubs}}
        with self.store.transaction():
            for pub in pubs:
                self.store.mark_unpublished(pub["id"])
                self.store.cancel_pending_uploads(pub["id"])
            for event in events.values():  # the manifest first, then the objects
                assert event is not None
                self.store.enqueue_manifest(event["id"], manifest_keys(self.config, self.store, event)[0])
            for pub in pubs:
                event = events[pub["event_id"]]
                assert event is not None
                for relative in self._uploaded(pub):
                    self.store.enqueue(
                        JobKind.DELETE, event["id"], bucket_key(self.config, event["slug"], relative),
                        publication_id=pub["id"],
                    )
            if on_commit is not None:
                on_commit()
        for pub in pubs:
            slug = events[pub["event_id"]]["slug"]  # type: ignore[index]
            for relative, src in self.files(slug, pub["name"]).items():
                if src.exists():
                    dest = self.config.folder("trash") / slug / relative
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(src, dest)
        for event_id in events:
            self.manifest_changed(event_id, now=True)

    def unpublish_all(self, event_id: int) -> int:
        """"Delete all": take every photo this appliance published in the event off the gallery
        (its own publications only: other appliances' photos in a shared event are not in this
        store and their objects are never touched). Returns how many."""
        pubs = self.store.published(event_id)
        if pubs:
            self.unpublish_many(pubs)
        log.warning("delete all: unpublished %d photos of event %s (this appliance's own)",
                    len(pubs), event_id)
        return len(pubs)

    def _uploaded(self, pub: dict[str, Any]) -> list[str]:
        """The bucket keys (relative to the event) a publication's uploads used."""
        name = pub["name"]
        return [manifest.photo_key(name), manifest.thumb_key(name)] + (
            [manifest.webp_key(name)] if pub["webp"] else []) + (
            [manifest.original_key(name)] if pub["original"] else [])


def preview(config: Config, store: Store, photo_id: int, recipe: dict[str, Any] | None,
            edge: int = PREVIEW_EDGE) -> bytes:
    """A JPEG preview of a publish (same pipeline, current watermark) for the admin; not stored."""
    parsed = Recipe.parse(recipe)
    photo = store.photo(photo_id)
    if photo is None:
        raise LookupError(f"no photo {photo_id} in the buffer")
    mark = watermark_settings.current(store, config.folder("state"))
    image = pipeline.render(config.folder("buffer") / photo["buffer_path"], parsed,
                            long_edge=min(edge, config.publish.long_edge), watermark=mark)
    return pipeline.thumb_jpeg_bytes(image, quality=80)
