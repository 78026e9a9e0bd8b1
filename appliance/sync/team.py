"""Several appliances in one event: share it (a join code), join it, and what stays one's own.

Sharing marks the event shared on this appliance (new names carry its id, the old single
``manifest.json`` is no longer written) and seals the bucket settings and the event into a join
code (:mod:`.joincode`). Joining opens the code with the passphrase, creates the event here (or
takes the one with that slug), makes it current and marks it shared. The bucket settings live in
``appliance.toml``: when they differ from this appliance's, joining says so and gives the
``[bucket]`` section to put there (the admin cannot rewrite the boot configuration).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ..config import Config
from ..publish import manifest
from ..publish.worker import Publisher
from ..store import Store
from . import joincode, takeover

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Joined:
    event_id: int
    slug: str
    bucket_matches: bool
    bucket_toml: str


def _refresh(config: Config, store: Store, event: dict[str, Any]) -> None:
    """Queue this appliance's manifest (now its shard only) so the gallery sees the change."""
    store.enqueue_manifest(event["id"], manifest.manifest_keys(config, store, event)[0])


def share(config: Config, store: Store, event: dict[str, Any], passphrase: str) -> str:
    """A join code for ``event`` (the passphrase is told to the other photographer, not shown)."""
    url = store.get_setting("gallery_url") or config.admin.gallery_url or ""
    offer = joincode.Offer(bucket=joincode.bucket_fields(config.bucket), slug=event["slug"],
                           title=event["title"], subtitle=event["subtitle"] or "", gallery_url=str(url))
    code = joincode.make(offer, passphrase)
    with store.transaction():
        store.set_event_shared(event["id"], True, owner=not store.event_shared(event["id"])
                               or store.event_owner(event["id"]))
        _refresh(config, store, event)
    log.info("event %s shared: join code made by appliance %s", event["slug"], store.appliance_id())
    return code


def join(config: Config, store: Store, code: str, passphrase: str) -> Joined:
    """Join the event in ``code``; raises :class:`joincode.JoinCodeError`."""
    offer = joincode.open_code(code, passphrase)
    if not offer.slug:
        raise joincode.JoinCodeError("the join code names no event")
    event_id = store.ensure_event(offer.slug, offer.title or offer.slug, offer.subtitle)
    with store.transaction():
        store.set_setting("current_event_id", event_id)
        if not store.event_shared(event_id):
            store.set_event_shared(event_id, True, owner=False)
        if offer.gallery_url and not store.get_setting("gallery_url"):
            store.set_setting("gallery_url", offer.gallery_url)
        event = store.event(event_id)
        assert event is not None
        _refresh(config, store, event)
    mine = joincode.bucket_fields(config.bucket)
    matches = all(mine.get(k, "") == v for k, v in offer.bucket.items() if k != "secret" or v)
    log.info("joined event %s as appliance %s (bucket %s)", offer.slug, store.appliance_id(),
             "as configured" if matches else "differs from appliance.toml")
    return Joined(event_id, offer.slug, matches, joincode.bucket_toml(offer.bucket))


def delete_all(config: Config, store: Store, event_id: int) -> int:
    """Unpublish every photo this appliance published (or took over) in the event; others' stay."""
    event = store.event(event_id)
    adopted = takeover.unpublish_adopted(config, store, event) if event else 0
    return Publisher(config, store).unpublish_all(event_id) + adopted
