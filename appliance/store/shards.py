"""This appliance's identity in events shared with other appliances (settings, no SQL of its own).

- ``appliance.id``: 8 characters of base32 (``a-z2-7``), made once (first boot or first run) and
  never changed: the name of this appliance's manifest shard and the tag of its photo names.
- ``event_shared.<event id>``: the event is fed by several appliances (joined with a join code or
  shared from here): new names carry the tag (``<id>.<base>``) and the old single
  ``manifest.json`` is no longer written (it would be overwritten by the others).
- ``event_owner.<event id>``: this appliance made the shared event (its shard's masthead wins).
- ``clock.bucket_offset_s``: the bucket's clock minus ours, from its ``Date`` header.
- ``clock.camera_offsets``: ``{"<make> <model>": seconds the camera's clock is fast}``, set by hand.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from typing import Any

from .settings import Settings

ID_SETTING = "appliance.id"
ID_RE = re.compile(r"^[a-z2-7]{8}$")
BUCKET_OFFSET_SETTING = "clock.bucket_offset_s"
CAMERA_OFFSETS_SETTING = "clock.camera_offsets"


def new_appliance_id() -> str:
    return base64.b32encode(secrets.token_bytes(5)).decode().lower()


def camera_label(make: str | None, model: str | None) -> str:
    """The name a camera's clock offset is kept under: ``"<make> <model>"`` (model alone when it
    already names the make, as Canon's do)."""
    make, model = (make or "").strip(), (model or "").strip()
    if make and model.lower().startswith(make.split()[0].lower()):
        return model
    return f"{make} {model}".strip()


class Shards(Settings):
    """The appliance id, shared events and clock offsets."""

    def appliance_id(self) -> str:
        """This appliance's id, made on first use and kept."""
        value = self.get_setting(ID_SETTING)
        if isinstance(value, str) and ID_RE.match(value):
            return value
        if value is not None:  # not an id (edited by hand?): a new one
            self.conn.execute("DELETE FROM settings WHERE key = ?", (ID_SETTING,))
        # One statement, fine inside a caller's transaction; a racing first use keeps the first id.
        self.conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
                          (ID_SETTING, json.dumps(new_appliance_id())))
        return str(self.get_setting(ID_SETTING))

    def event_shared(self, event_id: int) -> bool:
        return bool(self.get_setting(f"event_shared.{event_id}"))

    def set_event_shared(self, event_id: int, shared: bool = True, owner: bool | None = None) -> None:
        """Mark the event shared (``owner``: this appliance made it and handed out the join code)."""
        self.set_setting(f"event_shared.{event_id}", bool(shared))
        if owner is not None:
            self.set_setting(f"event_owner.{event_id}", bool(owner))

    def event_owner(self, event_id: int) -> bool:
        return bool(self.get_setting(f"event_owner.{event_id}"))

    def name_tag(self, event_id: int) -> str:
        """What a new name in the event starts with: ``"<appliance id>."`` when shared, else ""."""
        return f"{self.appliance_id()}." if self.event_shared(event_id) else ""

    def bucket_offset(self) -> float:
        value = self.get_setting(BUCKET_OFFSET_SETTING)
        return float(value) if isinstance(value, int | float) else 0.0

    def camera_labels(self) -> list[str]:
        """Every camera the buffer has photos from, by :func:`camera_label` (for clock offsets)."""
        rows = self.rows("SELECT DISTINCT camera_make, camera_model FROM photos "
                         "WHERE camera_model IS NOT NULL")
        return sorted({camera_label(r["camera_make"], r["camera_model"]) for r in rows} - {""})

    def camera_offsets(self) -> dict[str, float]:
        value: Any = self.get_setting(CAMERA_OFFSETS_SETTING) or {}
        return {str(k): float(v) for k, v in value.items() if isinstance(v, int | float)}

    def set_camera_offset(self, camera: str, fast_by_s: float) -> None:
        """``camera``'s clock is ``fast_by_s`` seconds ahead (negative: behind; 0 removes it)."""
        offsets = self.camera_offsets()
        if fast_by_s:
            offsets[camera] = float(fast_by_s)
        else:
            offsets.pop(camera, None)
        self.set_setting(CAMERA_OFFSETS_SETTING, offsets)
