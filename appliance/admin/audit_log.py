"""The audit log of the admin: every state change, written by one hook after every request.

Any request that is not GET/HEAD/OPTIONS and succeeded (status < 400) is recorded with who made
it, its endpoint, the photos it touched (from the JSON body or the URL; a publication id is
resolved to its photo) and the body itself with secrets blanked. The login, logout and invite
pages write their own entries (:func:`record`), since they change who is logged in.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, g, request

from . import client_id, get_store
from .roles import current_user

SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
SELF_RECORDED = frozenset({"auth.login", "auth.logout", "accounts.invite"})
PUBLICATION_IDS = frozenset({"api.unpublish", "api.retry"})  # their "id" is a publication's
PHOTO_ANSWERS = frozenset({"upload.upload"})  # the photo's id is in the answer, not the request
PHOTO_KEYS = ("id", "ids", "photo_id", "photo_ids")
SECRET_WORDS = ("password", "secret", "token", "key_id", "csrf")
MAX_DETAIL = 4000


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "…" if any(w in str(k).lower() for w in SECRET_WORDS) else _redacted(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value[:50]]
    return value


def _ints(value: Any) -> list[int]:
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, int) and not isinstance(v, bool)]


def photo_ids(endpoint: str, data: dict[str, Any], view_args: dict[str, Any],
              answer: Any = None) -> list[int]:
    """The photos a request touched, as far as its body, URL and answer (a batch's ``results``,
    also when it was given a filter query rather than ids) name them."""
    found = _ints(view_args.get("photo_id"))
    if isinstance(answer, dict) and isinstance(answer.get("results"), list):
        found += [r["id"] for r in answer["results"] if isinstance(r, dict) and isinstance(r.get("id"), int)]
    if endpoint in PHOTO_ANSWERS and isinstance(answer, dict):
        found += _ints(answer.get("id"))
    for key in PHOTO_KEYS:
        if key in data:
            found += _ints(data[key])
    if endpoint in PUBLICATION_IDS:
        store = get_store()
        pubs = [store.publication(i) for i in found]
        found = [p["photo_id"] for p in pubs if p]
    return list(dict.fromkeys(found))


def _request_data() -> dict[str, Any]:
    data = request.get_json(silent=True) if request.is_json else None
    if isinstance(data, dict):
        return data
    form: dict[str, Any] = {**request.args, **request.form}
    if request.files:
        form["files"] = [f.filename for f in request.files.getlist("file") or request.files.values()]
    if request.headers.get("X-Filename"):  # an upload names its file in a header
        form["file"] = request.headers["X-Filename"]
    return form


def record(action: str, user: dict[str, Any] | None = None, detail: dict[str, Any] | None = None,
           photos: list[int] | None = None) -> None:
    """One entry by ``user`` (default: the logged-in one) about the current request."""
    user = user if user is not None else current_user()
    store = get_store()
    event = store.current_event()
    store.audit(user_id=user["user_id"] if user else None, user_name=user["name"] if user else "",
                role=user["role"] if user else "", action=action, method=request.method,
                path=request.path, photo_ids=photos, detail=detail,
                event_id=event["id"] if event else None, client=client_id())


def after_change(response: Response) -> Response:
    """After every request: record it if it changed something."""
    endpoint = request.endpoint
    if request.method in SAFE or endpoint is None or endpoint in SELF_RECORDED or response.status_code >= 400:
        return response
    if g.get("user") is None:  # nothing changes without a session (CSRF and roles come first)
        return response
    data = _request_data()
    detail = _redacted({**data, **(request.view_args or {})})
    text = json.dumps(detail, sort_keys=True, default=str)
    if len(text) > MAX_DETAIL:
        detail = {"truncated": text[:MAX_DETAIL]}
    answer = response.get_json(silent=True) if response.is_json else None
    if isinstance(answer, dict) and answer.get("ok") is False:  # a refused upload (200 for the console)
        detail = {**detail, "refused": answer.get("error", "")}
    record(endpoint, detail=detail, photos=photo_ids(endpoint, data, request.view_args or {}, answer))
    return response


def register(app: Flask) -> None:
    app.after_request(after_change)
