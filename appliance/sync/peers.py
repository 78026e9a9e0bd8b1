"""Other appliances' objects in a shared event: recognised, left alone, removed only on purpose.

In a shared event every appliance writes its own shard (``manifests/<id>.json``) and names its
photos ``<id>.<base>``; verify, repair and "delete all" act on this appliance's objects only. An
owner may remove another appliance's shard (say a photographer left with a broken appliance): a
separate, confirmed command (``appliance r2 remove-shard ID``), logged to the service log.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from ..config import Config
from ..publish import face_settings, manifest
from ..store import Store
from ..store.shards import ID_RE
from . import bucket

log = logging.getLogger(__name__)

TAGGED_RE = re.compile(r"^(?:photos|thumbs)/(?P<id>[a-z2-7]{8})\.[^/]+$")
SHARD_RE = re.compile(rf"^{manifest.SHARDS_DIR}/(?P<id>[a-z2-7]{{8}})\.json$")
FACES_RE = re.compile(rf"^{face_settings.INDEX_DIR}/(?P<id>[a-z2-7]{{8}})\.bin$")  # its face index


def owner_id(relative: str) -> str | None:
    """The appliance id a key (relative to the event) belongs to by its name, if it says."""
    m = SHARD_RE.match(relative) or TAGGED_RE.match(relative) or FACES_RE.match(relative)
    return m.group("id") if m else None


def own_face_index(config: Config, store: Store, event: dict[str, Any]) -> str | None:
    """The key of the face index this appliance publishes for the event now, if it keeps one
    (``faces.bin``, or ``faces/<its id>.bin`` in a shared event; docs/faces.md)."""
    if not store.face_index(event["id"]):
        return None
    return manifest.bucket_key(config, event["slug"], face_settings.index_name(store, event["id"]))


def peer_of(config: Config, store: Store, event: dict[str, Any], key: str) -> str | None:
    """Another appliance's id when ``key`` is its shard or one of its photos; None otherwise."""
    prefix = manifest.bucket_key(config, event["slug"], "")
    if not key.startswith(prefix):
        return None
    found = owner_id(key[len(prefix):])
    return found if found and found != store.appliance_id() else None


def shards(config: Config, s3: Any, event: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The event's manifest shards in the bucket: appliance id -> listing entry."""
    prefix = manifest.bucket_key(config, event["slug"], manifest.SHARDS_DIR + "/")
    found = {}
    for obj in bucket.list_objects(s3, config.bucket.bucket, prefix):
        m = SHARD_RE.match(obj["key"][len(prefix) - len(manifest.SHARDS_DIR) - 1:])
        if m:
            found[m.group("id")] = obj
    return found


def remove_shard(config: Config, store: Store, s3: Any, event: dict[str, Any], peer: str,
                 with_objects: bool = False) -> list[str]:
    """Delete another appliance's shard (its photos leave the gallery) and, ``with_objects``, its
    photos too. Confirmation is the caller's; this logs what it did. Returns the keys deleted."""
    if not ID_RE.match(peer):
        raise ValueError(f"{peer!r} is not an appliance id")
    if peer == store.appliance_id():
        raise ValueError("that is this appliance's own shard: unpublish its photos instead")
    shard_key = manifest.bucket_key(config, event["slug"], manifest.shard_name(peer))
    keys = [shard_key]
    if with_objects:
        prefix = manifest.bucket_key(config, event["slug"], "")
        keys += [o["key"] for o in bucket.list_objects(s3, config.bucket.bucket, prefix)
                 if owner_id(o["key"][len(prefix):]) == peer and o["key"] != shard_key]
    for key in keys:  # the shard first: the gallery stops showing them before they go
        bucket.delete(s3, config.bucket.bucket, key)
    # No audit log on this branch (the roles branch brings one): the service log keeps it.
    log.warning("owner action: removed appliance %s's shard of event %s (%d objects: %s)",
                peer, event["slug"], len(keys), ", ".join(keys[:5]) + (" ..." if len(keys) > 5 else ""))
    return keys
