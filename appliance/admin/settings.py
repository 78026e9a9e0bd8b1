"""Settings API: event page, watermark, folders, events (create/switch) and cleanup tools.

Everything is stored in the store (``settings`` and ``events`` tables), so the other services see a
change on their next look without a restart. Store keys written here:

- ``gallery_url``: public gallery URL (``{event}`` is replaced by the event slug)
- ``event_hero.<event id>``: publication id of the event's cover photo
- ``watermark``, ``watermark_version``: see :mod:`appliance.admin.watermark`
- ``folders``: ``{"watch": path | null}``, the hot folder the importer watches (chosen from
  folders the server lists itself, never a path typed by the client)
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, jsonify, request, send_file

from .. import manifest
from ..config import SLUG_RE
from ..publisher import bucket_key
from ..store import Store, utcnow
from . import get_config, get_store
from . import watermark as wm
from .auth import login_required
from .errors import ApiError, body, text, whole
from .preview import jpeg_response, render_jpeg
from .queries import disk

bp = Blueprint("settings", __name__, url_prefix="/api")

URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
MOUNT_ROOTS = (Path("/media"), Path("/mnt"), Path("/run/media"))
FOLDER_NAMES = ("buffer", "web", "trash", "archive", "state")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every settings route needs a session."""


# -- event page ----------------------------------------------------------------------------------
def gallery_url(store: Store) -> str:
    """The public gallery URL for the current event ('' when none is set)."""
    url = store.get_setting("gallery_url") or get_config().admin.gallery_url
    event = store.current_event()
    return url.replace("{event}", event["slug"] if event else "") if url else ""


def _current_event(store: Store) -> dict[str, Any]:
    event = store.current_event()
    if event is None:
        raise ApiError("no current event", 409)
    return event


def _hero(store: Store, event_id: int) -> dict[str, Any] | None:
    pub_id = store.get_setting(f"event_hero.{event_id}")
    pub = store.publication(pub_id) if pub_id else None
    if pub is None or pub["event_id"] != event_id or pub["state"] != "published":
        return None
    return {"publication_id": pub["id"], "name": pub["name"], "thumb": f"/published/{pub['id']}/thumb"}


def _refresh_manifest(store: Store, event: dict[str, Any]) -> None:
    """Rewrite the local manifest and queue its upload so guests see the change."""
    config = get_config()
    store.enqueue_manifest(event["id"], bucket_key(config, event["slug"], manifest.MANIFEST_NAME))
    manifest.write_local(store, event["id"], config.folder("web") / event["slug"])


@bp.get("/settings/event")
def get_event() -> Any:
    store = get_store()
    event = _current_event(store)
    return jsonify(
        event={k: event[k] for k in ("id", "slug", "title", "subtitle")},
        hero=_hero(store, event["id"]),
        gallery_url=store.get_setting("gallery_url") or get_config().admin.gallery_url,
        gallery_url_resolved=gallery_url(store),
    )


@bp.put("/settings/event")
def put_event() -> Any:
    data = body()
    unknown = set(data) - {"title", "subtitle", "hero_publication_id", "gallery_url"}
    if unknown:
        raise ApiError(f"unknown event setting {sorted(unknown)[0]!r}")
    store = get_store()
    event = _current_event(store)
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
        if pub is None or pub["event_id"] != event["id"] or pub["state"] != "published":
            raise ApiError("hero_publication_id must be a published photo of the current event")
    with store.transaction():
        store.conn.execute(
            "UPDATE events SET title = ?, subtitle = ? WHERE id = ?", (title, subtitle, event["id"])
        )
        if url is not None:
            store.set_setting("gallery_url", url)
        if hero is not ...:
            store.set_setting(f"event_hero.{event['id']}", hero)
    _refresh_manifest(store, {**event, "title": title, "subtitle": subtitle})
    return get_event()


# -- watermark -------------------------------------------------------------------------------------
def _state() -> Path:
    return get_config().folder("state")


@bp.get("/settings/watermark")
def get_watermark() -> Any:
    store = get_store()
    return jsonify(watermark=wm.load(store), version=store.get_setting("watermark_version", 0),
                   positions=wm.POSITIONS, kinds=wm.KINDS)


@bp.put("/settings/watermark")
def put_watermark() -> Any:
    store = get_store()
    try:
        settings = wm.validate(body(), wm.load(store), _state())
    except wm.WatermarkError as exc:
        raise ApiError(str(exc)) from exc
    version = wm.save(store, settings)
    return jsonify(watermark=settings, version=version, positions=wm.POSITIONS, kinds=wm.KINDS)


@bp.post("/settings/watermark/image")
def upload_watermark() -> Any:
    """Upload a PNG mark (multipart field ``image``); it becomes the current image watermark."""
    upload = request.files.get("image")
    if upload is None:
        raise ApiError("send the PNG as multipart form field 'image'")
    store = get_store()
    try:
        sha = wm.store_png(upload.read(wm.MAX_PNG_BYTES + 1), _state())
        settings = wm.validate({"kind": "image", "image_sha": sha}, wm.load(store), _state())
    except wm.WatermarkError as exc:
        raise ApiError(str(exc)) from exc
    version = wm.save(store, settings)
    return jsonify(watermark=settings, version=version, positions=wm.POSITIONS, kinds=wm.KINDS), 201


@bp.get("/settings/watermark/image")
def watermark_image() -> Any:
    settings = wm.load(get_store())
    if not settings["image_sha"]:
        abort(404, "no watermark image uploaded")
    path = wm.image_path(_state(), settings["image_sha"])
    if not path.is_file():
        abort(404, "watermark image missing")
    return send_file(path, mimetype="image/png", max_age=0)


@bp.get("/settings/watermark/preview")
def watermark_preview() -> Any:
    """A photo with a draft (query string) or the saved watermark; ``?photo=ID`` picks the photo."""
    store = get_store()
    args = request.args
    draft: dict[str, Any] = {}
    for key in ("kind", "text", "position", "image_sha"):
        if key in args:
            draft[key] = args[key]
    for key in ("opacity", "size"):
        if key in args:
            try:
                draft[key] = float(args[key])
            except ValueError as exc:
                raise ApiError(f"{key} must be a number") from exc
    unknown = set(args) - {"kind", "text", "position", "image_sha", "opacity", "size", "photo", "v"}
    if unknown:
        raise ApiError(f"unknown preview parameter {sorted(unknown)[0]!r}")
    try:
        settings = wm.validate(draft, wm.load(store), _state())
    except wm.WatermarkError as exc:
        raise ApiError(str(exc)) from exc
    photo = None
    if "photo" in args:
        try:
            photo = store.photo(int(args["photo"]))
        except ValueError as exc:
            raise ApiError("photo must be a whole number") from exc
    photo = photo or _sample_photo(store)
    if photo is None:
        raise ApiError("the buffer is empty: import a photo to preview the watermark", 404)
    from ..pipeline import Recipe

    return jpeg_response(render_jpeg(photo, Recipe(), settings if settings["kind"] != "none" else None))


def _sample_photo(store: Store) -> dict[str, Any] | None:
    """The event's cover photo, else the most recently published, else the newest photo."""
    event = store.current_event()
    hero = _hero(store, event["id"]) if event else None
    if hero:
        pub = store.publication(hero["publication_id"])
        return store.photo(pub["photo_id"]) if pub else None
    row = store.row(
        "SELECT photo_id FROM publications WHERE state = 'published' ORDER BY id DESC LIMIT 1"
    )
    return store.photo(row["photo_id"]) if row else store.latest_photo()


# -- folders -----------------------------------------------------------------------------------------
def _folder_choices() -> list[Path]:
    """Folders the importer could watch: the configured one and mounted cards/drives (server-side)."""
    config = get_config()
    found: list[Path] = []
    if config.importer.watch:
        found.append(config.importer.watch)
    for root in MOUNT_ROOTS:
        try:
            levels = [p for p in root.iterdir() if p.is_dir()]
        except OSError:
            continue
        for entry in sorted(levels):
            found.append(entry)
            if root == Path("/run/media"):  # /run/media/<user>/<label>
                with contextlib.suppress(OSError):
                    found.extend(sorted(p for p in entry.iterdir() if p.is_dir()))
    unique: list[Path] = []
    for path in found:
        if path not in unique:
            unique.append(path)
    return unique


def _choice_id(path: Path) -> str:
    return hashlib.sha256(str(path).encode()).hexdigest()[:12]


def _folders_json(store: Store) -> dict[str, Any]:
    config = get_config()
    current = (store.get_setting("folders") or {}).get("watch")
    folders = []
    for name in FOLDER_NAMES:
        path = config.folder(name)
        try:
            usage = shutil.disk_usage(path)
            free, total = usage.free, usage.total
        except OSError:
            free = total = None
        folders.append({"name": name, "path": str(path), "free_bytes": free, "total_bytes": total})
    return {
        "folders": folders,
        "watch": current if current is not None else (str(config.importer.watch)
                                                      if config.importer.watch else None),
        "watch_overridden": current is not None,
        "choices": [{"id": _choice_id(p), "path": str(p)} for p in _folder_choices()],
        "disk": disk(config),
    }


@bp.get("/settings/folders")
def get_folders() -> Any:
    return jsonify(_folders_json(get_store()))


@bp.put("/settings/folders")
def put_folders() -> Any:
    """``{"watch": CHOICE_ID | null}``: pick the hot folder from the listed choices (null: config's)."""
    data = body()
    unknown = set(data) - {"watch"}
    if unknown:
        raise ApiError(f"unknown folder setting {sorted(unknown)[0]!r}")
    store = get_store()
    choice = data.get("watch")
    if choice is None:
        store.set_setting("folders", {"watch": None})
    else:
        if not isinstance(choice, str):
            raise ApiError("watch must be the id of one of the listed folders")
        chosen = {_choice_id(p): p for p in _folder_choices()}.get(choice)
        if chosen is None:
            raise ApiError("watch must be the id of one of the listed folders")
        store.set_setting("folders", {"watch": str(chosen)})
    return jsonify(_folders_json(store))


# -- events ------------------------------------------------------------------------------------------
def _events_json(store: Store) -> dict[str, Any]:
    rows = store.rows(
        """SELECT e.id, e.slug, e.title, e.subtitle, e.created_at,
             (SELECT COUNT(*) FROM publications p WHERE p.event_id = e.id AND p.state = 'published')
               AS published
           FROM events e ORDER BY e.id DESC"""
    )
    return {"current_id": store.get_setting("current_event_id"), "events": rows}


@bp.get("/events")
def events() -> Any:
    return jsonify(_events_json(get_store()))


@bp.post("/events")
def create_event() -> Any:
    """``{"slug", "title", "subtitle"?, "switch"?: true}``: create an event (and make it current)."""
    data = body()
    unknown = set(data) - {"slug", "title", "subtitle", "switch"}
    if unknown:
        raise ApiError(f"unknown event field {sorted(unknown)[0]!r}")
    slug = text(data.get("slug"), "slug", 63, required=True)
    if not SLUG_RE.match(slug):
        raise ApiError("slug must be lowercase letters, digits and '-' (it becomes part of URLs)")
    title = text(data.get("title"), "title", 120, required=True)
    subtitle = text(data.get("subtitle", ""), "subtitle", 200)
    switch = data.get("switch", True)
    if not isinstance(switch, bool):
        raise ApiError("switch must be true or false")
    store = get_store()
    with store.transaction():
        if store.scalar("SELECT 1 FROM events WHERE slug = ?", (slug,)):
            raise ApiError(f"an event {slug!r} exists already", 409)
        cursor = store.conn.execute(
            "INSERT INTO events (slug, title, subtitle, created_at) VALUES (?, ?, ?, ?)",
            (slug, title, subtitle, utcnow()),
        )
        if switch:
            store.set_setting("current_event_id", cursor.lastrowid)
    return jsonify(_events_json(store)), 201


@bp.post("/events/current")
def switch_event() -> Any:
    """``{"id"}``: make an existing event the one new publications go to."""
    event_id = whole(body().get("id"), "id")
    store = get_store()
    if store.event(event_id) is None:
        raise ApiError(f"no event {event_id}", 404)
    store.set_setting("current_event_id", event_id)
    return jsonify(_events_json(store))


# -- cleanup -----------------------------------------------------------------------------------------
def _trash_usage() -> tuple[int, int]:
    files = size = 0
    for path in get_config().folder("trash").rglob("*"):
        if path.is_file() and not path.is_symlink():
            files += 1
            size += path.stat().st_size
    return files, size


def _cleanup_json(store: Store) -> dict[str, Any]:
    files, size = _trash_usage()
    return {
        "failed_publications": store.scalar("SELECT COUNT(*) FROM publications WHERE state = 'failed'"),
        "retrying_uploads": store.scalar(
            "SELECT COUNT(*) FROM jobs WHERE state = 'pending' AND last_error IS NOT NULL"
        ),
        "rejected": store.scalar("SELECT COUNT(*) FROM photo_rejections"),
        "trash_files": files,
        "trash_bytes": size,
        "login_failures": store.scalar("SELECT COUNT(*) FROM login_failures"),
    }


@bp.get("/cleanup")
def cleanup_info() -> Any:
    return jsonify(_cleanup_json(get_store()))


@bp.post("/cleanup")
def cleanup() -> Any:
    """``{"action": ...}``: retry_failed | retry_uploads | restore_rejected | empty_trash."""
    action = body().get("action")
    store = get_store()
    if action == "retry_failed":
        done = store.conn.execute(
            "UPDATE publications SET state = 'queued', error = NULL, claimed_at = NULL "
            "WHERE state = 'failed'"
        ).rowcount
    elif action == "retry_uploads":
        done = store.conn.execute(
            "UPDATE jobs SET next_attempt_at = 0 WHERE state = 'pending'"
        ).rowcount
    elif action == "restore_rejected":
        done = store.conn.execute("DELETE FROM photo_rejections").rowcount
    elif action == "empty_trash":
        done = _empty_trash()
    else:
        raise ApiError("action must be retry_failed, retry_uploads, restore_rejected or empty_trash")
    return jsonify(action=action, affected=done, **_cleanup_json(store))


def _empty_trash() -> int:
    """Delete the unpublished web copies kept in trash/ (the originals stay in the buffer)."""
    trash = get_config().folder("trash")
    removed = 0
    for path in sorted(trash.rglob("*"), reverse=True):
        if path.is_symlink() or path.is_file():
            path.unlink()
            removed += 1
        elif path.is_dir():
            path.rmdir()
    return removed


@bp.get("/settings")
def all_settings() -> Any:
    """Every settings panel in one answer (the page loads this once)."""
    store = get_store()
    event = store.current_event()
    return jsonify(
        event=None if event is None else {
            "event": {k: event[k] for k in ("id", "slug", "title", "subtitle")},
            "hero": _hero(store, event["id"]),
            "gallery_url": store.get_setting("gallery_url") or get_config().admin.gallery_url,
            "gallery_url_resolved": gallery_url(store),
        },
        watermark={"watermark": wm.load(store), "version": store.get_setting("watermark_version", 0),
                   "positions": wm.POSITIONS, "kinds": wm.KINDS},
        folders=_folders_json(store),
        events=_events_json(store),
        cleanup=_cleanup_json(store),
    )

