"""The gallery manifest of an event, generated from the store (never read back as state).

Newest first; each photo with its keys, pixel sizes (exactly those of the files), thumbnail, capture
and publish time, a placeholder colour (``color``) and a 3×3 colour grid (``ph``, 27 hex digits: nine
CSS ``#rgb`` colours row by row) so the gallery reserves and tints the space before images load.
``webp`` is present when a WebP sits beside the JPEG. Compact: 2,500 photos stay well under 150 KB
gzipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_bytes
from ..store import PublicationState, Store, utcnow
from . import credits, face_settings

MANIFEST_NAME = "manifest.json"


def photo_key(name: str) -> str:
    return f"photos/{name}.jpg"


def thumb_key(name: str) -> str:
    return f"thumbs/{name}.jpg"


def webp_key(name: str) -> str:
    return f"photos/{name}.webp"


def entry(p: dict[str, Any]) -> dict[str, Any]:
    """One photo of the manifest, from a published publication row."""
    item = {
        "name": p["name"],
        "src": photo_key(p["name"]),
        "w": p["width"],
        "h": p["height"],
        "thumb": thumb_key(p["name"]),
        "tw": p["thumb_width"],
        "th": p["thumb_height"],
        "taken": p["capture_time"],
        "published": p["published_at"],
        "color": p["color"],
    }
    if p.get("placeholder"):
        item["ph"] = p["placeholder"]
    if p.get("webp"):
        item["webp"] = webp_key(p["name"])
    return item


def build(store: Store, event_id: int, live_only: bool) -> dict[str, Any]:
    """The manifest of an event: published photos, newest first.

    ``live_only`` keeps only photos whose files the bucket has confirmed, so a manifest uploaded
    to the bucket never references a missing object.
    """
    event = store.event(event_id)
    if event is None:
        raise LookupError(f"no event {event_id}")
    photos = [entry(p) for p in store.published(event_id, live_only=live_only)]
    result = {
        "version": 1,
        "event": {
            "slug": event["slug"],
            "title": event["title"],
            "subtitle": event["subtitle"],
            "hero": hero_key(store, event_id, live_only),
            "credit": credits.load(store).artist or None,  # the photographer, for share previews
        },
        "generated_at": utcnow(),
        "photos": photos,
    }
    faces = face_settings.manifest_entry(store, event_id, live_only)  # docs/faces.md
    if faces:
        result["faces"] = faces
    return result


def hero_key(store: Store, event_id: int, live_only: bool) -> str | None:
    """The cover photo chosen in the admin (setting ``event_hero.<id>``), while it is published."""
    pub_id = store.get_setting(f"event_hero.{event_id}")
    pub = store.publication(pub_id) if isinstance(pub_id, int) else None
    if pub is None or pub["event_id"] != event_id or pub["state"] != PublicationState.PUBLISHED:
        return None
    if live_only and not pub["live_at"]:
        return None
    return photo_key(pub["name"])


def encode(manifest: dict[str, Any]) -> bytes:
    """Compact JSON: the manifest is fetched by every guest every few seconds."""
    return json.dumps(manifest, separators=(",", ":"), ensure_ascii=False).encode()


def write_local(store: Store, event_id: int, event_dir: Path) -> Path:
    """Atomically write the event's manifest into its web folder (all published photos)."""
    path = event_dir / MANIFEST_NAME
    atomic_write_bytes(path, encode(build(store, event_id, live_only=False)))
    return path
