"""The "Find my photos" settings API: the current event's face search switch and the consent text
guests see (docs/faces.md), with how far indexing got. Stored as ``faces.<event id>``; the faces
service sees a change on its next look (indexes, or deletes descriptors and the published index)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from ..publish import face_settings, manifest
from ..publish.worker import bucket_key
from ..store import Store
from . import get_config, get_store
from .auth import session_blueprint
from .errors import ApiError, body, current_event

bp = session_blueprint("faces", __name__, url_prefix="/api/settings/faces")


def faces_json(store: Store, event: dict[str, Any]) -> dict[str, Any]:
    settings = face_settings.load(store, event["id"])
    index = store.face_index(event["id"])
    return {
        "event": event["slug"],
        "enabled": settings.enabled,
        "consent": settings.consent,
        "default_consent": face_settings.DEFAULT_CONSENT,
        "max_consent": face_settings.MAX_CONSENT,
        **store.face_counts(event["id"]),
        "waiting": store.face_jobs_left(event["id"]),
        "published_version": index["live_version"] if index else 0,
    }


@bp.get("")
def get_faces() -> Any:
    store = get_store()
    return jsonify(faces_json(store, current_event(store)))


@bp.put("")
def put_faces() -> Any:
    """``{"enabled"?: bool, "consent"?: text}`` for the current event (an empty text: the default)."""
    data = body({"enabled", "consent"}, "face search setting")
    store = get_store()
    event = current_event(store)
    current = face_settings.load(store, event["id"])
    enabled = data.get("enabled", current.enabled)
    if not isinstance(enabled, bool):
        raise ApiError("enabled must be true or false")
    consent = data.get("consent", current.consent)
    if not isinstance(consent, str):
        raise ApiError("consent must be text")
    consent = consent.strip().replace("\r\n", "\n") or face_settings.DEFAULT_CONSENT
    if len(consent) > face_settings.MAX_CONSENT:
        raise ApiError(f"consent must be at most {face_settings.MAX_CONSENT} characters")
    if any(ord(c) < 32 and c != "\n" for c in consent):
        raise ApiError("consent must not hold control characters")
    face_settings.save(store, event["id"], face_settings.FaceSettings(enabled, consent))
    # The manifest carries the consent text (and loses "faces" when off): guests see it soon.
    config = get_config()
    manifest.write_local(store, event["id"], config.folder("web") / event["slug"])
    store.enqueue_manifest(event["id"], bucket_key(config, event["slug"], manifest.MANIFEST_NAME))
    return jsonify(faces_json(store, event))
