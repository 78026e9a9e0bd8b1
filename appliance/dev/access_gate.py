"""The gallery password in the local gallery server: the same ``/access/<event>`` sign-in, signed
cookie and 401s as ``functions/_lib/access.js``, so ``make demo`` and the tests see a private
gallery exactly as guests will (the record is checked with :mod:`appliance.publish.gallery_access`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError
from flask import Flask, Response, abort, jsonify, request

from ..publish import gallery_access

COOKIE_DAYS = 30
RECORD_TTL_S = 2.0


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sign(record: dict[str, Any], event: str, expiry: int) -> str:
    """The cookie value: ``<expiry>.<HMAC-SHA256(hash, "<event>.<expiry>")>`` (as access.js)."""
    key = base64.b64decode(record["hash"])
    return f"{expiry}.{_b64url(hmac.new(key, f'{event}.{expiry}'.encode(), hashlib.sha256).digest())}"


def cookie_ok(record: dict[str, Any], event: str, value: str | None, now: float) -> bool:
    expiry, _, _sig = (value or "").partition(".")
    if not expiry.isdigit() or int(expiry) <= now:
        return False
    return hmac.compare_digest(sign(record, event, int(expiry)), value or "")


class AccessGate:
    """Reads ``<prefix>/<event>/access.json`` from the bucket and answers the sign-in routes."""

    def __init__(self, get_object: Callable[[str], bytes | None], clock: Callable[[], float] = time.time):
        self.get_object = get_object
        self.clock = clock
        self._records: dict[str, tuple[float, dict[str, Any] | None]] = {}

    def record(self, event: str) -> dict[str, Any] | None:
        """The event's password record (None: open); a damaged one keeps the gallery locked."""
        now = self.clock()
        hit = self._records.get(event)
        if hit and now - hit[0] < RECORD_TTL_S:
            return hit[1]
        raw = self.get_object(f"{event}/{gallery_access.ACCESS_NAME}")
        record: dict[str, Any] | None = None
        if raw is not None:
            try:
                doc = json.loads(raw)
                record = None if doc.get("open") is True else doc
            except (ValueError, AttributeError):
                record = {"broken": True}
        self._records[event] = (now, record)
        return record

    def allowed(self, event: str) -> bool | None:
        """None: an open gallery; else whether this request carries a valid cookie."""
        record = self.record(event)
        if record is None:
            return None
        if record.get("broken"):
            return False
        return cookie_ok(record, event, request.cookies.get(f"ga_{event}"), self.clock())

    def sign_in(self, event: str) -> Response:
        origin = request.headers.get("Origin")
        if origin and origin != request.host_url.rstrip("/"):
            return _json({"error": "cross-site request"}, 403)
        record = self.record(event)
        if record is None:
            return Response(status=204)
        data = request.get_json(silent=True) if request.is_json else request.form
        password = data.get("password") if hasattr(data, "get") else None
        ok = isinstance(password, str) and "broken" not in record and gallery_access.matches(record, password)
        if not ok:
            return _json({"error": "wrong password"}, 401)
        expiry = int(self.clock()) + COOKIE_DAYS * 86400
        response = Response(status=204, headers={"Cache-Control": "private, no-store"})
        response.set_cookie(f"ga_{event}", sign(record, event, expiry), max_age=COOKIE_DAYS * 86400, path="/",
                            httponly=True, secure=request.is_secure, samesite="Lax")
        return response


def _json(body: dict[str, Any], status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "private, no-store"
    return response


def locked() -> Response:
    return _json({"error": "password required"}, 401)


def register(app: Flask, gate: AccessGate, event_re: str) -> None:
    """``GET /access/<event>`` ({protected, unlocked}) and ``POST /access/<event>`` (sign in)."""
    @app.route("/access/<event>", methods=["GET", "POST"])
    def access(event: str) -> Any:
        if not re.fullmatch(event_re, event):
            abort(404)
        if request.method == "POST":
            return gate.sign_in(event)
        allowed = gate.allowed(event)
        return _json({"protected": allowed is not None, "unlocked": allowed is not False}, 200)


def bucket_reader(s3: Any, bucket: str, prefix: str) -> Callable[[str], bytes | None]:
    """``get_object(relative key)`` -> bytes, None when missing."""

    def get(rel: str) -> bytes | None:
        try:
            return s3.get_object(Bucket=bucket, Key=f"{prefix}/{rel}" if prefix else rel)["Body"].read()
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return None
            raise

    return get
