"""Folders (disk space, the hot folder) and cleanup tools of the admin.

The hot folder is stored as setting ``folders`` = ``{"watch": path | null}``; it is chosen by id
from folders the server lists itself (configured watch folder, mounted cards and drives), never
from a path typed by the client.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from flask import jsonify

from ..config import Config
from ..imaging.xmp_sidecar import sidecar_path
from ..store import Store
from . import get_config, get_store
from .auth import session_blueprint
from .errors import ApiError, body
from .queries import disk

bp = session_blueprint("housekeeping", __name__, url_prefix="/api")

log = logging.getLogger(__name__)
UNDO_SECONDS = 10.0  # a delete from the buffer can be undone this long; then its files go
MOUNT_ROOTS = (Path("/media"), Path("/mnt"), Path("/run/media"))
FOLDER_NAMES = ("buffer", "web", "trash", "archive", "state")


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


def folders_json(store: Store) -> dict[str, Any]:
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
    return jsonify(folders_json(get_store()))


@bp.put("/settings/folders")
def put_folders() -> Any:
    """``{"watch": CHOICE_ID | null}``: pick the hot folder from the listed choices (null: config's)."""
    data = body({"watch"}, "folder setting")
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
    return jsonify(folders_json(store))


def _trash_usage() -> tuple[int, int]:
    files = size = 0
    for path in get_config().folder("trash").rglob("*"):
        if path.is_file() and not path.is_symlink():
            files += 1
            size += path.stat().st_size
    return files, size


def cleanup_json(store: Store) -> dict[str, Any]:
    files, size = _trash_usage()
    return {
        "failed_publications": store.failed_count(),
        "retrying_uploads": store.retrying_count(),
        "rejected": store.rejection_count(),
        "trash_files": files,
        "trash_bytes": size,
        "login_failures": store.login_failure_count(),
    }


@bp.get("/cleanup")
def cleanup_info() -> Any:
    return jsonify(cleanup_json(get_store()))


@bp.post("/cleanup")
def cleanup() -> Any:
    """``{"action": ...}``: retry_failed | retry_uploads | restore_rejected | empty_trash |
    purge_deleted (files of photos deleted from the buffer, once their undo window is over)."""
    action = body().get("action")
    store = get_store()
    if action == "retry_failed":
        done = store.retry_failed_publications()
    elif action == "retry_uploads":
        done = store.retry_jobs_now()
    elif action == "restore_rejected":
        done = store.unreject_all()
    elif action == "empty_trash":
        done = _empty_trash()
    elif action == "purge_deleted":
        done = purge_deleted(get_config(), store)
    else:
        raise ApiError("action must be retry_failed, retry_uploads, restore_rejected, empty_trash "
                       "or purge_deleted")
    return jsonify(action=action, affected=done, **cleanup_json(store))


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


def purge_deleted(config: Config, store: Store, window_s: float | None = None) -> int:
    """Remove the buffer JPEG, its XMP sidecar and the thumbnail of photos deleted longer ago than
    the undo window; returns how many photos were purged. Never the card's files, nor the archive
    (RAW and HEIC originals stay), nor a buffer file another photo still points at."""
    window = UNDO_SECONDS if window_s is None else window_s
    rows = store.deleted_to_purge(time.time() - window)
    for row in rows:
        files = [config.folder("state") / "thumbs" / row["thumb_path"]] \
            if row["thumb_path"] and not row["thumb_shared"] else []
        if not row["shared"]:
            original = config.folder("buffer") / row["buffer_path"]
            files += [original, sidecar_path(original)]
        for path in files:
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:  # e.g. a folder where the file should be: the row is kept
                log.warning("cannot remove %s of deleted photo %d: %s", path, row["id"], exc)
    if rows:
        with store.transaction():
            store.mark_purged([r["id"] for r in rows])
    return len(rows)
