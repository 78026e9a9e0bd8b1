"""The gallery manifest of an event, generated from the store (never read back as state).

Newest first; each photo with its keys, pixel sizes (exactly those of the files), thumbnail, capture
and publish time, a placeholder colour (``color``) and a 3×3 colour grid (``ph``, 27 hex digits: nine
CSS ``#rgb`` colours row by row) so the gallery reserves and tints the space before images load.
``webp`` is present when a WebP sits beside the JPEG, ``original`` when guests download the
full-size JPEG (the event's download size "full": ``event.download`` is then ``"original"``).
Compact: 2,500 photos stay well under 150 KB gzipped.

Every appliance writes its own shard of an event, ``manifests/<appliance id>.json`` (same shape,
plus ``appliance`` and ``clock``); the gallery merges the shards (``web/js/merge.js``). While the
event is not shared the appliance also writes the old single ``manifest.json`` (galleries deployed
before shards and R2 custom-domain set-ups read it). ``skew`` (seconds, only when not 0) corrects a
photo's ``taken`` for its camera's clock as set in the admin. Photos taken over from another
appliance's shard (``Store.adopted``) are listed as that appliance wrote them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..config import Config
from ..fsutil import atomic_write_bytes
from ..store import PublicationState, Store, utcnow
from ..store.shards import camera_label
from . import credits, face_settings

MANIFEST_NAME = "manifest.json"
SHARDS_DIR = "manifests"


def shard_name(appliance_id: str) -> str:
    """The event-relative key of an appliance's manifest shard."""
    return f"{SHARDS_DIR}/{appliance_id}.json"


def bucket_key(config: Config, event_slug: str, relative: str) -> str:
    prefix = config.bucket.prefix.strip("/")
    return f"{prefix}/{event_slug}/{relative}" if prefix else f"{event_slug}/{relative}"


def manifest_keys(config: Config, store: Store, event: dict[str, Any]) -> list[str]:
    """The bucket keys a manifest job of ``event`` writes: this appliance's shard, and the old
    single manifest while the event is not shared. The first is the job's key."""
    keys = [bucket_key(config, event["slug"], shard_name(store.appliance_id()))]
    if not store.event_shared(event["id"]):
        keys.insert(0, bucket_key(config, event["slug"], MANIFEST_NAME))
    return keys


def photo_key(name: str) -> str:
    return f"photos/{name}.jpg"


def thumb_key(name: str) -> str:
    return f"thumbs/{name}.jpg"


def original_key(name: str) -> str:
    """The full-size JPEG guests download when the event says so (never the camera's file)."""
    return f"originals/{name}.jpg"


def webp_key(name: str) -> str:
    return f"photos/{name}.webp"


def entry(p: dict[str, Any], camera_offsets: dict[str, float] | None = None) -> dict[str, Any]:
    """One photo of the manifest, from a published publication row (``camera_offsets``: seconds
    each camera's clock is fast, by :func:`camera_label`)."""
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
    if p.get("original"):
        item["original"] = original_key(p["name"])
    fast = (camera_offsets or {}).get(camera_label(p.get("camera_make"), p.get("camera_model")))
    if fast:
        item["skew"] = -fast
    return item


def build(store: Store, event_id: int, live_only: bool) -> dict[str, Any]:
    """The manifest of an event: published photos, newest first.

    ``live_only`` keeps only photos whose files the bucket has confirmed, so a manifest uploaded
    to the bucket never references a missing object.
    """
    event = store.event(event_id)
    if event is None:
        raise LookupError(f"no event {event_id}")
    offsets = store.camera_offsets()
    photos = [entry(p, offsets) for p in store.published(event_id, live_only=live_only)]
    adopted = [a["entry"] for a in store.adopted(event_id)]  # taken over from another appliance
    if adopted:  # (docs/multi.md) their objects are in the bucket: in publish order among ours
        photos = sorted(photos + adopted, key=lambda p: p["published"] or "", reverse=True)
    order = gallery_order(store, event_id)
    if order == "capture":  # stable: photos taken at the same second keep their newest-published-first order
        photos.sort(key=lambda p: p["taken"] or p["published"] or "", reverse=True)
    result = {
        "version": 1,
        "event": {
            "slug": event["slug"],
            "title": event["title"],
            "subtitle": event["subtitle"],
            "hero": hero_key(store, event_id, live_only),
            "credit": credits.load(store).artist or None,  # the photographer, for share previews
            **({"order": order} if order != "newest" else {}),
            **({"download": "original"} if download_size(store, event_id) == "full" else {}),
        },
        "generated_at": utcnow(),
        "appliance": {"id": store.appliance_id(), "shared": store.event_shared(event_id),
                      "owner": store.event_owner(event_id)},
        "clock": {"offset_s": round(store.bucket_offset(), 1)},  # bucket's clock minus ours
        "photos": photos,
    }
    faces = face_settings.manifest_entry(store, event_id, live_only)  # docs/faces.md
    if faces:
        result["faces"] = faces
    return result


ORDERS = ("newest", "capture")
DOWNLOAD_SIZES = ("web", "full")
# An event's gallery choices: field of the admin's event settings -> (setting prefix, choices; the
# first is the default).
EVENT_CHOICES = {"order": ("gallery_order", ORDERS), "download": ("download_size", DOWNLOAD_SIZES)}


def event_choice(store: Store, event_id: int, field: str) -> str:
    """The event's setting ``<prefix>.<id>`` for ``field`` of :data:`EVENT_CHOICES` (default if unset)."""
    prefix, choices = EVENT_CHOICES[field]
    value = store.get_setting(f"{prefix}.{event_id}")
    return value if value in choices else choices[0]


def download_size(store: Store, event_id: int) -> str:
    """What guests download: the ``web`` JPEG or a ``full``-size one rendered beside it at publish."""
    return event_choice(store, event_id, "download")


def gallery_order(store: Store, event_id: int) -> str:
    """How guests see new photos: ``newest`` published first (they enter at the top), or
    ``capture`` order (a photo taken earlier goes to its place)."""
    return event_choice(store, event_id, "order")


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
