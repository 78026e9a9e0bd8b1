"""The admin's formatting over the store's read models (appliance.store.admin_views): buffer
pages, live feed, status snapshot."""

from __future__ import annotations

import base64
import binascii
import json
import shutil
import time
from typing import Any

from ..config import Config
from ..store import PublicationState, Store, SyncStatus
from ..store.admin_views import BUFFER_FILTER_NAMES
from .import_report import camera_reports, card_state
from .plain_errors import explain, known

# The buffer filters (their SQL is in the store: appliance.store.admin_views.BUFFER_FILTERS).
FILTERS = BUFFER_FILTER_NAMES


class CursorError(ValueError):
    """A pagination cursor that this server did not make."""


def encode_cursor(sort_key: str, photo_id: int) -> str:
    raw = json.dumps([sort_key, photo_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, photo_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise CursorError("cursor is not valid") from exc
    if not isinstance(key, str) or isinstance(photo_id, bool) or not isinstance(photo_id, int):
        raise CursorError("cursor is not valid")
    return key, photo_id


def buffer_counts(store: Store) -> dict[str, int]:
    """How many photos each filter shows (same sets as :data:`FILTERS`)."""
    return store.buffer_counts()


def buffer_page(
    store: Store, filter_: str, limit: int, cursor: str | None = None, offset: int = 0
) -> tuple[list[dict[str, Any]], str | None]:
    """Photos newest first (capture time) with their latest publication; returns (rows, next cursor).

    With a cursor the page starts after the photo it names (keyset pagination: stable while
    a card is importing); without one at ``offset``.
    """
    after = decode_cursor(cursor) if cursor else None
    rows = store.buffer_rows(filter_, limit + 1, after, offset)
    more = len(rows) > limit
    rows = rows[:limit]
    latest = store.latest_publications([r["id"] for r in rows])
    for r in rows:
        r["publication"] = latest.get(r["id"])
    next_cursor = encode_cursor(rows[-1]["sort_key"], rows[-1]["id"]) if more and rows else None
    return rows, next_cursor


def photo_json(row: dict[str, Any]) -> dict[str, Any]:
    pub = row.get("publication")
    return {
        "id": row["id"],
        "name": row["original_name"],
        "capture_time": row["capture_time"],
        "camera": " ".join(x for x in (row["camera_make"], row["camera_model"]) if x) or None,
        "width": row["width"],
        "height": row["height"],
        "thumb": f"/thumbs/{row['id']}",
        "state": pub["state"] if pub else None,
        "live": bool(pub and pub["state"] == PublicationState.PUBLISHED and pub["live_at"]),
        "publication_id": pub["id"] if pub else None,
        "rejected": row["rejected_at"] is not None,
    }


def live_feed(store: Store, event_id: int, limit: int, offset: int) -> list[dict[str, Any]]:
    """Publications of an event, newest first, with their sync state."""
    current = store.sync_state().get("current_key")
    rows = store.live_rows(event_id, current, limit, offset)
    return [
        {
            "id": r["id"],
            "photo_id": r["photo_id"],
            "name": r["name"],
            "state": r["state"],
            "sync": sync_state(r),
            **error_fields(r),
            "recipe": json.loads(r["recipe"]),
            "requested_at": r["requested_at"],
            "published_at": r["published_at"],
            "live_at": r["live_at"],
            "thumb": f"/published/{r['id']}/thumb" if r["state"] == PublicationState.PUBLISHED
            else f"/thumbs/{r['photo_id']}",
        }
        for r in rows
    ]


def error_fields(row: dict[str, Any]) -> dict[str, str | None]:
    """A publication's error in plain words, and its raw text (also in the log) as details."""
    explained = explain(row["error"] or row["sync_error"], "publish" if row["error"] else "sync")
    return {"error": explained and explained["message"], "error_details": explained and explained["details"]}


def sync_state(row: dict[str, Any]) -> str:
    """publishing → queued → uploading → live; retrying (with a reason) or failed on errors."""
    if row["state"] == PublicationState.FAILED:
        return SyncStatus.FAILED
    if row["state"] != PublicationState.PUBLISHED:
        return SyncStatus.PUBLISHING
    if row["live_at"]:
        return SyncStatus.LIVE
    if row.get("uploading"):
        return SyncStatus.UPLOADING
    return SyncStatus.RETRYING if row["sync_error"] else SyncStatus.QUEUED


def disk(config: Config) -> dict[str, int]:
    """Free and total bytes where the buffer lives (the folder that fills up at an event)."""
    usage = shutil.disk_usage(config.folder("buffer"))
    return {"free_bytes": usage.free, "total_bytes": usage.total}


def status_snapshot(config: Config, store: Store) -> dict[str, Any]:
    """Everything the always-visible status bar shows."""
    status = store.status()
    sync = store.sync_state()
    status.update(
        server_time=time.time(),
        last_upload_at=status["last_success_at"],
        uploading=sync.get("current_key"),
        retrying=store.retrying_count(),
        disk=disk(config),
        card=card_state(store),
        new=buffer_counts(store)["new"],
        live=store.live_count(),
        watermark_version=store.get_setting("watermark_version", 0),
        cameras=cameras_state(store),
        last_error_explained=explain(status.get("last_error"), "sync"),
        camera_reports=camera_reports(store),
    )
    for target in status.get("second_copy") or []:  # the bucket's error said plainly, raw as details
        said = (target.get("target") == "bucket" and target.get("problem")
                and known(target.get("last_error") or target["problem"]))
        target["problem_explained"] = ({"message": said, "details": target["problem"]} if said else None)
    return status


def cameras_state(store: Store) -> dict[str, Any]:
    """The cameras for the status panel: FTP accounts connected, their frames and discarded
    partials; USB-tethered cameras connected or that sent frames."""
    accounts = store.ftp_accounts_listing()
    return {
        "accounts": len(accounts),
        "connected": [a["label"] or a["user"] for a in accounts if a["connected_since"]],
        "frames": sum(a["frames_received"] for a in accounts),
        "partials": [{"camera": a["label"] or a["user"], "count": a["partials_discarded"]}
                     for a in accounts if a["partials_discarded"]],
        "last_frame_at": max((a["last_frame_at"] for a in accounts if a["last_frame_at"]), default=None),
        "usb": [{"camera": c["camera"], "connected": bool(c["connected_since"]),
                 "frames": c["frames_received"], "last_frame_at": c["last_frame_at"]}
                for c in store.tether_cameras() if c["connected_since"] or c["frames_received"]],
    }


def gallery_url(config: Config, store: Store) -> str:
    """The public gallery URL for the current event ('' when none is set)."""
    url = store.get_setting("gallery_url") or config.admin.gallery_url
    event = store.current_event()
    return url.replace("{event}", event["slug"] if event else "") if url else ""


def hero(store: Store, event_id: int) -> dict[str, Any] | None:
    """The event's cover photo chosen in the admin, while it is published."""
    pub_id = store.get_setting(f"event_hero.{event_id}")
    pub = store.publication(pub_id) if isinstance(pub_id, int) else None
    if pub is None or pub["event_id"] != event_id or pub["state"] != PublicationState.PUBLISHED:
        return None
    return {"publication_id": pub["id"], "name": pub["name"], "thumb": f"/published/{pub['id']}/thumb"}
