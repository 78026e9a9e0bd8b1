"""Settings API: the event page (title, subtitle, gallery URL, cover) and all panels at once.

Everything is stored in the store (``settings`` and ``events`` tables), so the other services see a
change on their next look without a restart. Store keys written by the admin:

- ``gallery_url``: public gallery URL (``{event}`` is replaced by the event slug)
- ``event_hero.<event id>``: publication id of the event's cover photo
- ``gallery_order.<event id>``: ``newest`` (new photos enter at the top) or ``capture`` order
- ``download_size.<event id>``: what guests download, the ``web`` JPEG or a ``full``-size one
- ``watermark``, ``credits``: see :mod:`appliance.imaging.watermark`, :mod:`appliance.publish.credits`;
  ``watermark_version`` is bumped on every watermark change (:mod:`appliance.admin.watermark_api`)
- ``folders``: ``{"watch": path | null}``: see :mod:`appliance.admin.housekeeping`
"""

from __future__ import annotations

import re
from typing import Any

from flask import jsonify

from ..publish import credits, manifest
from ..publish.worker import manifest_keys
from ..store import PublicationState, Store
from . import get_config, get_store
from .auth import session_blueprint
from .errors import ApiError, body, current_event, text, whole
from .events import events_json
from .housekeeping import cleanup_json, folders_json
from .queries import gallery_url, hero
from .watermark_api import watermark_json

bp = session_blueprint("settings", __name__, url_prefix="/api")

URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def _refresh_manifest(store: Store, event: dict[str, Any]) -> None:
    """Rewrite the local manifest and queue its upload so guests see the change."""
    config = get_config()
    store.enqueue_manifest(event["id"], manifest_keys(config, store, event)[0])
    manifest.write_local(store, event["id"], config.folder("web") / event["slug"])


def event_json(store: Store, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "event": {k: event[k] for k in ("id", "slug", "title", "subtitle")},
        **{field: manifest.event_choice(store, event["id"], field) for field in manifest.EVENT_CHOICES},
        "hero": hero(store, event["id"]),
        "gallery_url": store.get_setting("gallery_url") or get_config().admin.gallery_url,
        "gallery_url_resolved": gallery_url(get_config(), store),
    }


@bp.get("/settings/event")
def get_event() -> Any:
    store = get_store()
    return jsonify(event_json(store, current_event(store)))


@bp.put("/settings/event")
def put_event() -> Any:
    data = body({"title", "subtitle", "hero_publication_id", "gallery_url", "order", "download"},
                "event setting")
    store = get_store()
    event = current_event(store)
    title = text(data["title"], "title", 120, required=True) if "title" in data else event["title"]
    subtitle = text(data["subtitle"], "subtitle", 200) if "subtitle" in data else event["subtitle"]
    url = None
    if "gallery_url" in data:
        url = text(data["gallery_url"], "gallery_url", 500)
        if url and not URL_RE.match(url):
            raise ApiError("gallery_url must start with http:// or https://")
    hero = data.get("hero_publication_id", ...)
    if hero is not ... and hero is not None:
        hero = whole(hero, "hero_publication_id")
        pub = store.publication(hero)
        if pub is None or pub["event_id"] != event["id"] or pub["state"] != PublicationState.PUBLISHED:
            raise ApiError("hero_publication_id must be a published photo of the current event")
    changed: dict[str, Any] = {}
    for field, (prefix, choices) in manifest.EVENT_CHOICES.items():
        if field in data:
            if data[field] not in choices:
                raise ApiError(f"{field} must be one of {', '.join(choices)}")
            changed[f"{prefix}.{event['id']}"] = data[field]
    if url is not None:
        changed["gallery_url"] = url
    if hero is not ...:
        changed[f"event_hero.{event['id']}"] = hero
    store.save_event_settings(event["id"], title, subtitle, changed)
    _refresh_manifest(store, {**event, "title": title, "subtitle": subtitle})
    return get_event()


@bp.get("/settings")
def all_settings() -> Any:
    """Every settings panel in one answer (the page loads this once)."""
    store = get_store()
    event = store.current_event()
    return jsonify(
        event=None if event is None else event_json(store, event),
        watermark=watermark_json(store),
        credits=credits.load(store).to_dict(),
        folders=folders_json(store),
        events=events_json(store),
        cleanup=cleanup_json(store),
    )
