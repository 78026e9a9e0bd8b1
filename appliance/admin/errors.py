"""JSON errors for the API (a clear message and a 4xx status) and input validation helpers."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from flask import Flask, jsonify, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    """A client error with a message meant for the person holding the phone."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _wants_json() -> bool:
    return (
        request.path.startswith(("/api/", "/metrics"))
        or request.is_json
        or request.accept_mimetypes.best == "application/json"
    )


def register(app: Flask) -> None:
    """Error handlers: JSON for the API, Flask's pages elsewhere."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Any:
        return jsonify(error=exc.message), exc.status

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        if _wants_json():
            return jsonify(error=f"CSRF check failed: {exc.description}"), 400
        return exc

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        if _wants_json():
            return jsonify(error=exc.description or exc.name), exc.code or 500
        return exc


def current_event(store: Any) -> dict[str, Any]:
    """The store's current event; 409 when there is none (a fresh box before its first event)."""
    event = store.current_event()
    if event is None:
        raise ApiError("no current event", 409)
    return event


def body(allowed: Iterable[str] | None = None, what: str = "field") -> dict[str, Any]:
    """The request's JSON object body; with ``allowed``, any other key is refused by name."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError("expected a JSON object body")
    if allowed is not None and (unknown := set(data) - set(allowed)):
        raise ApiError(f"unknown {what} {sorted(unknown)[0]!r}")
    return data


def whole(value: Any, name: str, low: int | None = None, high: int | None = None) -> int:
    """A whole number (JSON bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(f"{name} must be a whole number")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ApiError(f"{name} must be between {low} and {high}")
    return value


def number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ApiError(f"{name} must be a number")
    if not low <= value <= high:
        raise ApiError(f"{name} must be between {low:g} and {high:g}")
    return float(value)


def text(value: Any, name: str, max_len: int, required: bool = False) -> str:
    """A single line of text without control characters."""
    if not isinstance(value, str):
        raise ApiError(f"{name} must be text")
    value = value.strip()
    if required and not value:
        raise ApiError(f"{name} must not be empty")
    if len(value) > max_len:
        raise ApiError(f"{name} must be at most {max_len} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ApiError(f"{name} must be a single line without control characters")
    return value


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, str(default))
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(f"{name} must be a whole number") from exc
    if not low <= value <= high:
        raise ApiError(f"{name} must be between {low} and {high}")
    return value
