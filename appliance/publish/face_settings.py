"""The per-event "Find my photos" setting (``faces.<event id>`` in the store): on/off and the consent
text guests see; what the manifest says about the event's face index (docs/faces.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..store import Store

DEFAULT_CONSENT = (
    "Find my photos compares a selfie with the faces in this gallery. Your selfie stays on your phone: "
    "it is analysed in your browser and never uploaded. To make this possible, the photographer "
    "publishes a face index of this event's photos (numbers describing each face, no pictures), "
    "which your browser downloads. Continue only if you agree."
)
MAX_CONSENT = 2000


@dataclass(frozen=True)
class FaceSettings:
    enabled: bool = False
    consent: str = DEFAULT_CONSENT


def setting_key(event_id: int) -> str:
    return f"faces.{event_id}"


def load(store: Store, event_id: int) -> FaceSettings:
    """The event's setting; off with the default text when never set."""
    raw = store.get_setting(setting_key(event_id))
    if not isinstance(raw, dict):
        return FaceSettings()
    consent = raw.get("consent")
    return FaceSettings(raw.get("enabled") is True,
                        consent if isinstance(consent, str) and consent.strip() else DEFAULT_CONSENT)


def save(store: Store, event_id: int, settings: FaceSettings) -> None:
    store.set_setting(setting_key(event_id), {"enabled": settings.enabled, "consent": settings.consent})


INDEX_NAME = "faces.bin"  # a single appliance's event (galleries before shards read it)
INDEX_DIR = "faces"  # a shared event: faces/<appliance id>.bin, one per appliance (docs/multi.md)


def index_name(store: Store, event_id: int) -> str:
    """Where this appliance's face index of the event goes, relative to the event: ``faces.bin``
    while the event is not shared, else its own ``faces/<appliance id>.bin`` (as manifest.json vs
    the shards: several appliances never write one object)."""
    if store.event_shared(event_id):
        return f"{INDEX_DIR}/{store.appliance_id()}.bin"
    return INDEX_NAME


def manifest_entry(store: Store, event_id: int, live_only: bool) -> dict[str, Any] | None:
    """``{"v", "consent", "src"}`` while face search is on and an index is published (``live_only``:
    the bucket confirmed it; else written to the web folder); None otherwise."""
    settings = load(store, event_id)
    index = store.face_index(event_id) if settings.enabled else None
    version = (index["live_version"] if live_only else index["version"]) if index else 0
    if not version:
        return None
    return {"v": version, "consent": settings.consent, "src": index_name(store, event_id)}
