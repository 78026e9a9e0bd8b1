"""The optional gallery password of an event: its record, and ``access.json`` in the bucket.

The owner sets a password in the admin; the store keeps only a PBKDF2-SHA256 record (salt, hash,
iterations) under ``gallery_access.<event id>``, never the password. The record goes to the bucket
as ``<prefix>/<slug>/access.json`` through the outbox (an upload job, so an offline appliance
sends it when it is back). The Pages Function (``functions/_lib/access.js``) reads it, checks a
guest's password with the same KDF and sets a signed cookie; without a password the file says
``{"v": 1, "open": true}``. The Function never serves ``access.json`` itself.

PBKDF2 rather than scrypt/argon2 because the Function must check it with WebCrypto, which has
PBKDF2 only; :data:`ITERATIONS` keeps a sign-in within a few ms of Worker CPU. The record is not
public (the bucket is private when a password is set), so the iterations only slow down someone
who already has the bucket.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import unicodedata
from pathlib import Path
from typing import Any

from ..config import Config
from ..fsutil import atomic_write_bytes
from ..store import JobKind, Store
from .worker import bucket_key

ACCESS_NAME = "access.json"
ITERATIONS = 10_000
MIN_LENGTH = 4
MAX_LENGTH = 128


class PasswordError(ValueError):
    """A password the gallery cannot use (too short, too long)."""


def setting_key(event_id: int) -> str:
    return f"gallery_access.{event_id}"


def _derive(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", unicodedata.normalize("NFC", password).encode(), salt, iterations)


def make_record(password: str, iterations: int = ITERATIONS, salt: bytes | None = None) -> dict[str, Any]:
    """The stored (and published) record of ``password``."""
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"the gallery password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordError(f"the gallery password may have at most {MAX_LENGTH} characters")
    salt = os.urandom(16) if salt is None else salt
    digest = _derive(password, salt, iterations)
    return {"v": 1, "kdf": "pbkdf2-sha256", "iterations": iterations,
            "salt": base64.b64encode(salt).decode(), "hash": base64.b64encode(digest).decode()}


def matches(record: dict[str, Any], password: str) -> bool:
    """Does ``password`` match the record (constant-time)?"""
    if record.get("kdf") != "pbkdf2-sha256" or len(password) > 256:
        return False
    got = _derive(password, base64.b64decode(record["salt"]), int(record["iterations"]))
    return hmac.compare_digest(got, base64.b64decode(record["hash"]))


def document(record: dict[str, Any] | None) -> bytes:
    """What ``access.json`` says: the record, or that the gallery is open."""
    return json.dumps(record if record else {"v": 1, "open": True}, separators=(",", ":")).encode()


def local_path(config: Config, slug: str) -> Path:
    """The file the upload job sends (in the private state folder, not the web folder)."""
    return config.folder("state") / "access" / f"{slug}.json"


def current(store: Store, event_id: int) -> dict[str, Any] | None:
    """The event's password record (None: an open gallery)."""
    record = store.get_setting(setting_key(event_id))
    return record if isinstance(record, dict) and record.get("hash") else None


def publish(store: Store, config: Config, event: dict[str, Any], record: dict[str, Any] | None) -> None:
    """Store the record (None: remove the password) and queue ``access.json`` for the bucket."""
    path = local_path(config, event["slug"])
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, document(record))
    with store.transaction():
        store.set_setting(setting_key(event["id"]), record)
        store.enqueue(JobKind.UPLOAD, event["id"], bucket_key(config, event["slug"], ACCESS_NAME),
                      path=str(path), content_type="application/json", cache_control="private, no-store")
