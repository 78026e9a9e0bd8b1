"""Taking over another appliance's shard: its photos stay in the gallery, now this appliance's.

A photographer's appliance died or left mid-event: the owner's appliance reads that appliance's
shard once (a plain GET; never written back), keeps its entries in the store and lists them in
its own shard from then on. The other shard is deleted by the sync only after this appliance's
shard is in the bucket (a delete waits for the event's pending manifest), so guests never lose
them. Adopted photos can be unpublished here like one's own: the manifest first, then exactly
their objects (safe mode allows only those keys). Logged to the service log; the admin's request
is in the audit log.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from botocore.exceptions import ClientError

from ..config import Config
from ..publish import manifest
from ..store import Store
from ..store.adopted import Adoption
from ..store.shards import ID_RE

log = logging.getLogger(__name__)

REF_FIELDS = ("src", "thumb", "webp", "original")
REF_RE = re.compile(r"^(?:photos|thumbs|originals)/[^/]+\.(?:jpg|webp)$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


class TakeOverError(ValueError):
    """A take-over that cannot be done (own shard, not the event's owner, no such shard...)."""


def adoptions(config: Config, store: Store, slug: str, shard: dict[str, Any]) -> list[Adoption]:
    """The entries of another appliance's shard as this appliance will list them: its credit kept
    on each photo, its clock offset folded into ``skew`` (this shard has its own clock)."""
    photos = shard.get("photos")
    if not isinstance(photos, list):
        raise TakeOverError("that shard is not a manifest (no photo list)")
    event = shard.get("event") if isinstance(shard.get("event"), dict) else {}
    credit = event.get("credit") if isinstance(event.get("credit"), str) else None
    clock = shard.get("clock") if isinstance(shard.get("clock"), dict) else {}
    shift = _number(clock.get("offset_s")) - store.bucket_offset()
    found = []
    for p in photos:
        if not isinstance(p, dict) or not isinstance(p.get("name"), str) or not NAME_RE.match(p["name"]):
            continue
        refs = [p[f] for f in REF_FIELDS if isinstance(p.get(f), str)]
        if not refs or not all(REF_RE.match(r) for r in refs):
            log.warning("take over: left out %r (odd object keys %s)", p.get("name"), refs)
            continue
        item = dict(p)
        if credit and not (isinstance(p.get("credit"), str) and p["credit"]):
            item["credit"] = credit
        skew = round(_number(p.get("skew")) + shift, 1)
        item.pop("skew", None)
        if skew:
            item["skew"] = skew
        found.append((p["name"], item, [manifest.bucket_key(config, slug, r) for r in refs]))
    return found


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def take_over(config: Config, store: Store, s3: Any, event: dict[str, Any], peer: str) -> int:
    """Adopt appliance ``peer``'s shard of ``event``; returns how many photos were adopted.
    Confirmation is the caller's. The sync writes this appliance's shard, then deletes ``peer``'s."""
    if not ID_RE.match(peer):
        raise TakeOverError(f"{peer!r} is not an appliance id")
    if peer == store.appliance_id():
        raise TakeOverError("that is this appliance's own shard: its photos are already managed here")
    if not store.event_owner(event["id"]):
        raise TakeOverError("only the appliance that shared the event may take over another's shard")
    shard_key = manifest.bucket_key(config, event["slug"], manifest.shard_name(peer))
    try:
        body = s3.get_object(Bucket=config.bucket.bucket, Key=shard_key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            raise TakeOverError(f"appliance {peer} has no shard in event {event['slug']}") from None
        raise
    try:
        shard = json.loads(body)
    except ValueError as exc:
        raise TakeOverError(f"appliance {peer}'s shard is not valid JSON: {exc}") from None
    if not isinstance(shard, dict):
        raise TakeOverError(f"appliance {peer}'s shard is not a manifest")
    photos = adoptions(config, store, event["slug"], shard)
    with store.transaction():  # this shard first (the delete waits for the pending manifest)
        added = store.record_takeover(event["id"], peer, shard_key, photos)
        store.enqueue_manifest(event["id"], manifest.manifest_keys(config, store, event)[0])
        store.enqueue("delete", event["id"], shard_key)
    _write_local(config, store, event)
    log.warning("owner action: took over appliance %s's shard of event %s (%d photos adopted)",
                peer, event["slug"], added)
    return added


def _write_local(config: Config, store: Store, event: dict[str, Any]) -> None:
    """The event's manifest in its web folder, as a publish writes it."""
    folder = config.folder("web") / event["slug"]
    folder.mkdir(parents=True, exist_ok=True)
    manifest.write_local(store, event["id"], folder)


def unpublish_adopted(config: Config, store: Store, event: dict[str, Any],
                      ids: list[int] | None = None) -> int:
    """Take adopted photos (all, or ``ids``) off the gallery: the manifest first, then their
    objects. Returns how many."""
    with store.transaction():
        before = len(store.adopted(event["id"]))
        keys = store.unpublish_adopted(event["id"], ids)
        count = before - len(store.adopted(event["id"]))
        if count:
            store.enqueue_manifest(event["id"], manifest.manifest_keys(config, store, event)[0])
        for key in keys:
            store.enqueue("delete", event["id"], key)
    _write_local(config, store, event)
    if count:
        log.warning("unpublished %d adopted photos of event %s", count, event["slug"])
    return count

