"""Card ingest in the admin: upload from the phone's browser, and live import progress.

``GET /api/ingest`` is what the admin polls while cards import: running imports with files and
bytes done/total, MB/s and ETA, the cards with their "safe to remove" state and import reports.

Upload: the same verified import as a card, one file per request.

``POST /api/upload`` with the file as the raw request body (``fetch(url, {method: "POST", body:
file})``), its name in ``X-Filename`` (URL-encoded) or ``?name=``, and the CSRF token in
``X-CSRFToken``. The body is streamed to a temp folder (never held in memory) up to
``importer.upload_max_mb``, then imported exactly like a file on a card. Every answer names the
file's import report category (``category``: imported, duplicates, unreadable, zero_byte...).
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import secure_filename

from ..ingest import progress
from ..ingest.import_verdict import Category, category_of_skip
from ..ingest.importer import Importer
from ..ingest.scan import classify
from . import csrf, get_store
from .auth import login_required
from .plain_errors import plain

bp = Blueprint("upload", __name__, url_prefix="/api")

CHUNK = 1 << 20
STALE_UPLOAD_S = 3600


def _staging_root() -> Path:
    root = current_app.config["APPLIANCE"].folder("state") / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    for leftover in root.glob(".upload-*"):  # from a worker killed mid-upload
        try:
            if leftover.stat().st_mtime < time.time() - STALE_UPLOAD_S:
                shutil.rmtree(leftover, ignore_errors=True)
        except FileNotFoundError:
            continue
    return root


def _error(status: int, message: str, category: str = Category.FAILED, **more: Any) -> Any:
    """A refused or failed upload: the message in plain words, the file's report category (the
    phone's upload report counts it there) and, for a failure, the raw text as ``details``.

    With ``?report=1`` (the admin's "Add photos") a file the import refused is an answer, not an
    HTTP error: 200 with ``ok: false`` (a browser logs every 4xx/5xx as a console error)."""
    if request.args.get("report") == "1" and status in (415, 422, 500):
        return jsonify(ok=False, error=message, category=category, status=status, **more), 200
    return jsonify(ok=False, error=message, category=category, **more), status


@bp.post("/upload")
@csrf.exempt  # checked below, once this request's size limit is set
@login_required
def upload() -> Any:
    config = current_app.config["APPLIANCE"]
    limit = config.importer.upload_max_mb * 1024 * 1024
    # this route's limit instead of the app-wide one, set before the body is touched (Flask 3.1+;
    # older Flask keeps the app-wide MAX_CONTENT_LENGTH)
    with contextlib.suppress(AttributeError):
        request.max_content_length = limit
    csrf.protect()
    raw_name = unquote(request.headers.get("X-Filename") or request.args.get("name") or "")
    name = secure_filename(raw_name)
    if not name:
        return _error(400, "give the file name in X-Filename or ?name=")
    kind, reason = classify(Path(Path(raw_name).name))  # before secure_filename drops a leading "."
    if kind is None:
        return _error(415, f"{raw_name}: {reason}", category_of_skip(reason or ""), reason=reason)
    if request.content_length is None:
        return _error(411, "Content-Length is required")
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return _error(415, "send the file itself as the request body, not a form")
    staging = Path(tempfile.mkdtemp(prefix=".upload-", dir=_staging_root()))
    try:
        path = staging / name
        written = 0
        digest = hashlib.sha256()
        try:
            with open(path, "wb") as out:
                while chunk := request.stream.read(CHUNK):
                    written += len(chunk)
                    digest.update(chunk)
                    out.write(chunk)
        except RequestEntityTooLarge:
            return _error(413, f"The file is larger than this appliance accepts "
                               f"(importer.upload_max_mb = {config.importer.upload_max_mb} MB).")
        if written != request.content_length:
            return _error(400, f"The upload was cut off ({written} of {request.content_length} bytes "
                               "arrived): send it again.")
        report = Importer(config, get_store()).import_paths([(path, None)], source=f"upload {name}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _answer(report.summary(), name, kind, digest.hexdigest())


def _answer(summary: dict[str, Any], name: str, kind: str, sha: str) -> Any:
    """201 when new, 200 when already there; 422 when the file is not a usable photo. Each answer
    names the file's report category (imported, archived, duplicates, unreadable, zero_byte...)."""
    store = get_store()
    category = next(iter(summary["counts"]), Category.FAILED)  # one file: one category
    body: dict[str, Any] = {"ok": True, "name": name, "kind": kind, "import_id": summary["import_id"],
                            "sha256": sha, "category": category}
    if summary["errors"]:
        raw = next(iter(summary["errors"].values())) or "unknown error"
        return _error(500, plain(raw, "upload"), details=raw)
    if summary["skipped"]:
        reason = next(iter(summary["skipped"]))
        return _error(422, f"{name}: {reason}", category, reason=reason)
    # the photo: the file itself (a JPEG), or the one derived from it (a RAW-only frame, a HEIC)
    photo = store.photo_by_sha(sha)
    original = None if photo else store.raw_by_sha(sha)
    photo_id = photo["id"] if photo else original["photo_id"] if original else None
    if kind == "raw":
        body.update(archived=bool(summary["raw_archived"]), duplicate=bool(summary["duplicates"]),
                    id=photo_id)
        return jsonify(body), 201 if summary["raw_archived"] else 200
    body.update(imported=bool(summary["imported"]), duplicate=bool(summary["duplicates"]), id=photo_id)
    return jsonify(body), 201 if summary["imported"] else 200


@bp.get("/ingest")
@login_required
def ingest() -> Any:
    """Live progress of running imports, the cards and their reports."""
    store = get_store()
    status = progress.ingest_status(store)
    status["recent"] = progress.recent_imports(store, limit=10)
    return jsonify(status)
