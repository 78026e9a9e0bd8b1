"""The buffer's filter and sort as query parameters (``GET /api/buffer``, ``/api/buffer/ids``) or
as the ``query`` object of a batch: validated into a :class:`~appliance.store.culling.BufferQuery`
with a plain message for each bad value."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..store import Store
from ..store.admin_views import BUFFER_FILTER_NAMES
from ..store.culling import FLAGS, SORTS, STATES, BufferQuery
from ..store.sources import SourceKind
from .errors import ApiError

KEYS = ("filter", "rating", "flag", "state", "source", "from", "to", "sort")
SOURCE_KINDS = tuple(str(k) for k in SourceKind)
KIND_LABELS = {SourceKind.CARD: "Card", SourceKind.FTP: "FTP", SourceKind.UPLOAD: "Upload",
               SourceKind.TETHER: "USB tether", SourceKind.HOT_FOLDER: "Hot folder",
               SourceKind.OTHER: "Imported"}


def _choice(value: str | None, name: str, choices: tuple[str, ...]) -> str | None:
    if value in (None, ""):
        return None
    if value not in choices:
        raise ApiError(f"{name} must be one of {', '.join(choices)}")
    return value


def parse_time(value: str | None, name: str) -> str | None:
    """An ISO 8601 date or time as the store compares it (``2026-06-14T12:00:00``); a time with
    a zone is taken to UTC (capture times carry none: they are the camera's clock)."""
    if value in (None, ""):
        return None
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(f"{name} must be an ISO 8601 date or time, e.g. 2026-06-14T18:30") from exc
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def _rating(value: Any) -> int:
    if value in (None, ""):
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ApiError("rating must be a whole number from 0 to 5")
    try:
        rating = int(value)
    except ValueError as exc:
        raise ApiError("rating must be a whole number from 0 to 5") from exc
    if not 0 <= rating <= 5:
        raise ApiError("rating must be a whole number from 0 to 5")
    return rating


def _source(value: str | None) -> tuple[str | None, str | None]:
    """``card`` (any card) or ``kind:name`` (``ftp:camera-a``, a card by its label)."""
    if value in (None, ""):
        return None, None
    kind, sep, name = str(value).partition(":")
    if kind not in SOURCE_KINDS:
        raise ApiError(f"source must be one of {', '.join(SOURCE_KINDS)}, or kind:name (e.g. ftp:camera-a)")
    return kind, (name if sep else None)


def parse_query(params: Mapping[str, Any]) -> BufferQuery:
    """A buffer query from request arguments or a batch's ``query`` object."""
    if not isinstance(params, Mapping):
        raise ApiError("query must be an object of buffer filters")
    def get(key: str) -> Any:
        value = params.get(key)
        if isinstance(value, bool) or (value is not None and not isinstance(value, str | int)):
            raise ApiError(f"{key} must be text or a number")
        return value.strip() if isinstance(value, str) else value
    kind, name = _source(get("source"))
    query = BufferQuery(
        filter_=_choice(get("filter"), "filter", BUFFER_FILTER_NAMES) or "all",
        rating=_rating(get("rating")),
        flag=_choice(get("flag"), "flag", FLAGS),
        state=_choice(get("state"), "state", STATES),
        source_kind=kind, source_name=name,
        from_=parse_time(get("from"), "from"), to=parse_time(get("to"), "to"),
        sort=_choice(get("sort"), "sort", tuple(SORTS)) or "capture",
    )
    if query.from_ and query.to and query.from_ >= query.to:
        raise ApiError("from must be before to")
    return query


def source_label(kind: str, name: str, accounts: Mapping[str, str]) -> str:
    """How the filter shows a source: "FTP · Camera A", "Card · EOS_DIGITAL", "Upload"."""
    base = KIND_LABELS.get(SourceKind(kind) if kind in SOURCE_KINDS else SourceKind.OTHER, kind)
    if kind == SourceKind.UPLOAD or not name:
        return base
    return f"{base} · {accounts.get(name) or name}" if kind == SourceKind.FTP else f"{base} · {name}"


def sources_json(store: Store) -> list[dict[str, Any]]:
    """The sources with photos in the buffer for the filter: kind, name, label, count."""
    accounts = {a["user"]: a["label"] for a in store.ftp_accounts_listing()}
    return [{**s, "label": source_label(s["kind"], s["name"], accounts)} for s in store.buffer_sources()]
