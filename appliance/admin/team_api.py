"""Team API: this appliance's id and the event shared with other appliances (join code, join,
camera clocks, delete all of one's own photos, removing or taking over another appliance's shard).

The passphrase of a join code is never stored nor shown again: the owner tells it to the other
photographer, who types it on their appliance. Removing or taking over another appliance's shard
is an owner's action with its own confirmation (the appliance id sent twice) and goes to the
service log and, as every admin change, to the audit log.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import segno
from flask import jsonify

from ..publish import manifest
from ..store import Store
from ..store.shards import ID_RE
from ..sync import bucket, joincode, peers, takeover, team
from . import get_config, get_store
from .auth import session_blueprint
from .errors import ApiError, body, current_event, number, text

bp = session_blueprint("team", __name__, url_prefix="/api")
log = logging.getLogger(__name__)
MAX_OFFSET_S = 7 * 24 * 3600
MAX_LISTED = 500  # adopted photos listed in the team card


def team_json(store: Store) -> dict[str, Any]:
    event = store.current_event()
    return {
        "appliance_id": store.appliance_id(),
        "event": {k: event[k] for k in ("id", "slug", "title")} if event else None,
        "shared": bool(event and store.event_shared(event["id"])),
        "owner": bool(event and store.event_owner(event["id"])),
        "bucket_offset_s": store.bucket_offset(),
        "camera_offsets": store.camera_offsets(),
        "cameras": store.camera_labels(),
        "takeovers": store.takeovers(event["id"]) if event else [],
        "adopted": [{k: a[k] for k in ("id", "name", "source_id")}
                    for a in (store.adopted(event["id"]) if event else [])[:MAX_LISTED]],
    }


@bp.get("/team")
def get_team() -> Any:
    return jsonify(team_json(get_store()))


@bp.post("/team/share")
def share() -> Any:
    """``{"passphrase"}``: a join code (text and QR) for the current event."""
    data = body({"passphrase"}, "share field")
    passphrase = text(data.get("passphrase"), "passphrase", 200, required=True)
    store = get_store()
    try:
        code = team.share(get_config(), store, current_event(store), passphrase)
    except joincode.JoinCodeError as exc:
        raise ApiError(str(exc)) from None
    out = io.BytesIO()
    segno.make(code, error="m").save(out, kind="svg", scale=4, border=2, dark="#000", light="#fff",
                                             xmldecl=False, omitsize=True)
    return jsonify({"code": code, "qr_svg": out.getvalue().decode(), **team_json(store)})


@bp.post("/team/join")
def join() -> Any:
    """``{"code", "passphrase"}``: join the event; says whether this appliance's bucket matches."""
    data = body({"code", "passphrase"}, "join field")
    code = text(data.get("code"), "code", 4000, required=True)
    passphrase = text(data.get("passphrase"), "passphrase", 200, required=True)
    store = get_store()
    try:
        joined = team.join(get_config(), store, code, passphrase)
    except joincode.JoinCodeError as exc:
        raise ApiError(str(exc)) from None
    return jsonify({"slug": joined.slug, "bucket_matches": joined.bucket_matches,
                    "bucket_toml": "" if joined.bucket_matches else joined.bucket_toml, **team_json(store)})


@bp.put("/team/camera-offset")
def camera_offset() -> Any:
    """``{"camera", "fast_by_s"}``: the camera's clock is that many seconds fast (negative: slow)."""
    data = body({"camera", "fast_by_s"}, "camera offset field")
    camera = text(data.get("camera"), "camera", 120, required=True)
    store = get_store()
    store.set_camera_offset(camera, number(data.get("fast_by_s"), "fast_by_s", -MAX_OFFSET_S, MAX_OFFSET_S))
    event = store.current_event()
    if event:  # the next manifest carries the corrected times
        store.enqueue_manifest(event["id"], manifest.manifest_keys(get_config(), store, event)[0])
    return jsonify(team_json(store))


@bp.post("/team/delete-all")
def delete_all() -> Any:
    """``{"confirm": "<event slug>"}``: unpublish all of THIS appliance's photos in the event."""
    data = body({"confirm"}, "delete-all field")
    store = get_store()
    event = current_event(store)
    if data.get("confirm") != event["slug"]:
        raise ApiError(f"type the event's web name ({event['slug']}) to confirm")
    return jsonify({"unpublished": team.delete_all(get_config(), store, event["id"])})


@bp.post("/team/remove-shard")
def remove_shard() -> Any:
    """``{"id", "confirm", "objects"?}``: owner: take another appliance's photos off the gallery
    (its shard; ``objects``: its photos too). ``confirm`` is the id typed again."""
    data = body({"id", "confirm", "objects"}, "remove-shard field")
    peer = text(data.get("id"), "id", 8, required=True)
    if not ID_RE.match(peer) or data.get("confirm") != peer:
        raise ApiError("type the other appliance's id twice to confirm")
    config, store = get_config(), get_store()
    event = current_event(store)
    if not store.event_owner(event["id"]):
        raise ApiError("only the appliance that shared the event may remove another's shard", 403)
    try:
        keys = peers.remove_shard(config, store, bucket.client(config.bucket), event, peer,
                                  with_objects=data.get("objects") is True)
    except ValueError as exc:
        raise ApiError(str(exc)) from None
    except bucket.OFFLINE_ERRORS as exc:
        raise ApiError(f"the bucket is unreachable: {exc}", 503) from None
    return jsonify({"deleted": len(keys)})


def _peer(data: dict[str, Any]) -> str:
    peer = text(data.get("id"), "id", 8, required=True)
    if not ID_RE.match(peer) or data.get("confirm") != peer:
        raise ApiError("type the other appliance's id twice to confirm")
    return peer


@bp.post("/team/take-over")
def take_over() -> Any:
    """``{"id", "confirm"}``: owner: keep another appliance's published photos in the gallery,
    managed here from now on (its shard is read once, then deleted after this one lists them)."""
    peer = _peer(body({"id", "confirm"}, "take-over field"))
    config, store = get_config(), get_store()
    event = current_event(store)
    try:
        adopted = takeover.take_over(config, store, bucket.client(config.bucket), event, peer)
    except takeover.TakeOverError as exc:
        raise ApiError(str(exc), 403 if "only the appliance" in str(exc) else 400) from None
    except bucket.OFFLINE_ERRORS as exc:
        raise ApiError(f"the bucket is unreachable: {exc}", 503) from None
    return jsonify({**team_json(store), "taken_over": adopted, "source": peer})


@bp.post("/team/unpublish-adopted")
def unpublish_adopted() -> Any:
    """``{"adopted": [ids]}`` or ``{"source": appliance id}``: take photos taken over from another
    appliance off the gallery (the manifest first, then their objects)."""
    data = body({"adopted", "source"}, "unpublish-adopted field")
    store = get_store()
    event = current_event(store)
    live = store.adopted(event["id"])
    if isinstance(data.get("adopted"), list):
        wanted = {i for i in data["adopted"] if type(i) is int}  # noqa: E721 - not a bool
        ids = [a["id"] for a in live if a["id"] in wanted]
    elif isinstance(data.get("source"), str):
        ids = [a["id"] for a in live if a["source_id"] == data["source"]]
    else:
        raise ApiError("say which adopted photos: adopted (ids) or source (appliance id)")
    if not ids:
        raise ApiError("none of those photos is taken over here and still published", 404)
    count = takeover.unpublish_adopted(get_config(), store, event, ids)
    return jsonify({"unpublished": count, **team_json(store)})
