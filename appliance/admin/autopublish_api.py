"""Auto-publish in the admin: each source's rule for the current event, and the photos in their
grace window (the buffer grid shows their countdown; rejecting one cancels it).

Sources listed: any card, the hot folder, a USB-tethered camera and each FTP account. The rules
themselves are applied by the publish service (:mod:`appliance.publish.autopublish`).
"""

from __future__ import annotations

import time
from typing import Any

from flask import jsonify

from ..publish.autopublish import MODES_BY_KIND, validate
from ..store import Store
from ..store.sources import SourceKind, rule_name
from . import get_store
from .auth import session_blueprint
from .errors import ApiError, body, current_event, text, whole

bp = session_blueprint("autopublish", __name__, url_prefix="/api")

FIXED_SOURCES = ((SourceKind.CARD, "Any card"), (SourceKind.HOT_FOLDER, "Hot folder"),
                 (SourceKind.TETHER, "USB tether"))


def _event_id(store: Store) -> int:
    return int(current_event(store)["id"])


def _rule_event(store: Store, kind: str, name: str) -> int:
    """The event whose rule applies: an FTP account's own event when it has one, else the current."""
    account = store.ftp_account(name) if kind == SourceKind.FTP else None
    return int(account["event_id"]) if account and account["event_id"] else _event_id(store)


def rules_json(store: Store) -> dict[str, Any]:
    """Every source with its rule in the current event (an FTP account set to an event of its own:
    in that event), ``off`` when none was set."""
    current = _event_id(store)
    rules = {(current, r["source_kind"], r["source_name"]): r for r in store.autopublish_rules(current)}
    slugs = {e["id"]: e["slug"] for e in store.events_listing()}
    sources = [(kind, "", label, current) for kind, label in FIXED_SOURCES]
    for a in store.ftp_accounts():
        own = a["event_id"] or current
        label = f"FTP: {a['user']}" + (f" ({a['label']})" if a["label"] else "")
        sources.append((SourceKind.FTP, a["user"], label + (f" → {slugs.get(own)}" if own != current else ""),
                        own))
        if own != current:
            rules.update({(own, r["source_kind"], r["source_name"]): r for r in store.autopublish_rules(own)})
    listed = []
    for kind, name, label, event_id in sources:
        rule = rules.get((event_id, kind, name))
        listed.append({"kind": kind.value, "name": name, "label": label,
                       "modes": list(MODES_BY_KIND[kind]),
                       "mode": rule["mode"] if rule else "off", "value": rule["value"] if rule else 0,
                       "since": rule["since"] if rule and rule["mode"] != "off" else None})
    return {"sources": listed}


@bp.get("/autopublish")
def get_rules() -> Any:
    return jsonify(rules_json(get_store()))


@bp.put("/autopublish")
def put_rule() -> Any:
    data = body({"kind", "name", "mode", "value"}, "auto-publish field")
    store = get_store()
    kind = text(data.get("kind"), "kind", 20, required=True)
    name = text(data.get("name") or "", "name", 200)
    mode = text(data.get("mode"), "mode", 20, required=True)
    value = whole(data.get("value", 0), "value", 0, 24 * 3600)
    if kind == SourceKind.FTP and store.ftp_account(name) is None:
        raise ApiError(f"no FTP account {name!r}", 404)
    if rule_name(kind, name) != name:
        raise ApiError(f"a {kind} rule has no name")
    try:
        validate(kind, mode, value)
    except ValueError as exc:
        raise ApiError(str(exc)) from exc
    store.set_autopublish_rule(_rule_event(store, kind, name), kind, name, mode,
                               value if mode != "protected" else 0)
    return jsonify(rules_json(store))


@bp.get("/autopublish/waiting")
def waiting() -> Any:
    """Photos in their grace window: id and when they publish (epoch seconds, with the server's now)."""
    store = get_store()
    events = {_event_id(store)} | {a["event_id"] for a in store.ftp_accounts() if a["event_id"]}
    rows = [row for event_id in sorted(events) for row in store.autopublish_waiting(event_id)]
    return jsonify(now=time.time(), photos=[{"id": r["photo_id"], "due_at": r["due_at"]} for r in rows])
