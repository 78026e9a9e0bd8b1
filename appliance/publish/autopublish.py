"""Auto-publish: the rules of the current event applied to each photo as it arrives.

Each tick (from the publish service loop) looks once at every photo imported since the last tick:
the rule of its source in the current event decides whether it will be published, and when (its
import time plus the grace window of ``all``; at once for ``rated`` and ``protected``). Photos whose
time has come are queued through :meth:`Publisher.request` with ``once``, which refuses a duplicate
(any publication of the photo in the event, even unpublished or failed) and a rejected photo in
the same transaction: rejecting a photo in its grace window cancels it. A rule applies only to
photos imported after its mode was set, never to the buffer already there.

An FTP account belongs to a user of the admin and inherits their role for what its frames may
trigger: a viewer's camera never auto-publishes (checked when a frame is looked at and again when
it is due, in case the role changed in its grace window); an editor's or owner's may.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from ..store import PublishSkipped, Store, epoch, role_rank
from ..store.sources import SourceKind, rule_name
from .worker import Publisher

log = logging.getLogger(__name__)

SCAN_BATCH = 500
PUBLISHING_ROLE = "editor"  # the least role whose camera may auto-publish
# Which modes a source can use: a protect flag is only seen on a card (FAT/exFAT read-only
# attribute, read by the kernel's driver) or a tethered camera's file; FTP and the hot folder
# carry none.
MODES_BY_KIND: dict[str, tuple[str, ...]] = {
    SourceKind.CARD: ("off", "all", "rated", "protected"),
    SourceKind.TETHER: ("off", "all", "rated", "protected"),
    SourceKind.HOT_FOLDER: ("off", "all", "rated"),
    SourceKind.FTP: ("off", "all", "rated"),
}
MAX_GRACE_S = 24 * 3600


@dataclass(frozen=True)
class Rule:
    mode: str
    value: int
    after_photo_id: int  # photos recorded before the rule's mode was set are not its business

    def due_at(self, photo: dict[str, Any]) -> float | None:
        """When this rule publishes ``photo`` (epoch seconds), or None when it does not."""
        if self.mode == "off" or photo["id"] <= self.after_photo_id:
            return None
        imported = epoch(photo["imported_at"])
        if self.mode == "all":
            return imported + self.value
        if self.mode == "rated":
            return imported if (photo["rating"] or 0) >= max(1, self.value) else None
        if self.mode == "protected":
            return imported if photo["protected"] else None
        return None


def validate(kind: str, mode: str, value: int) -> None:
    """Raise ValueError with a reason the admin shows when a rule cannot be set."""
    modes = MODES_BY_KIND.get(kind)
    if modes is None:
        raise ValueError(f"no auto-publish rules for the source kind {kind!r}")
    if mode not in modes:
        why = " (FTP and hot-folder files carry no protect flag)" if mode == "protected" else ""
        raise ValueError(f"{kind}: mode must be one of {', '.join(modes)}{why}")
    if mode == "all" and not 0 <= value <= MAX_GRACE_S:
        raise ValueError(f"the grace window must be 0 to {MAX_GRACE_S} seconds")
    if mode == "rated" and not 1 <= value <= 5:
        raise ValueError("the rating must be 1 to 5 stars")


class AutoPublisher:
    """Finds photos whose rule matched and whose grace window elapsed, and queues them."""

    def __init__(self, store: Store, publisher: Publisher) -> None:
        self.store = store
        self.publisher = publisher
        self.requested = 0

    def tick(self, now: float | None = None) -> int:
        """Look at new photos, then queue the due ones; returns how many were queued."""
        now = time.time() if now is None else now
        event = self.store.current_event()
        if event is None:
            return 0
        while self.scan(event["id"]) == SCAN_BATCH:
            pass
        return self.publish_due(event["id"], now)

    def rules(self, event_id: int) -> dict[tuple[str, str], Rule]:
        return {(r["source_kind"], r["source_name"]): Rule(r["mode"], r["value"], r["after_photo_id"])
                for r in self.store.autopublish_rules(event_id)}

    def camera_may_publish(self, kind: str, name: str, roles: dict[str, str]) -> bool:
        """Whether a photo of this source may be auto-published by its FTP account's role (other
        sources are the appliance's own: card, tether, hot folder)."""
        return kind != SourceKind.FTP or role_rank(roles.get(name, "owner")) >= role_rank(PUBLISHING_ROLE)

    def bound_events(self) -> dict[str, int]:
        """FTP accounts set to an event of their own in the admin: their frames go there."""
        return {a["user"]: a["event_id"] for a in self.store.ftp_accounts() if a["event_id"]}

    def scan(self, event_id: int) -> int:
        """Decide for the next batch of new photos (by the rules of the current event, or of the
        event an FTP account is set to); returns how many were looked at."""
        photos = self.store.autopublish_unscanned(SCAN_BATCH)
        if not photos:
            return 0
        bound, rules_of = self.bound_events(), {event_id: self.rules(event_id)}
        roles, waiting = self.store.ftp_account_roles(), []
        for photo in photos:
            kind, name = photo["source_kind"] or SourceKind.OTHER, photo["source_name"] or ""
            if not self.camera_may_publish(kind, name, roles):
                continue
            target = bound.get(name, event_id) if kind == SourceKind.FTP else event_id
            if target not in rules_of:
                rules_of[target] = self.rules(target)
            rule = rules_of[target].get((kind, rule_name(kind, name)))
            due = rule.due_at(photo) if rule else None
            if due is not None and rule is not None:
                waiting.append({"photo_id": photo["id"], "event_id": target, "source_kind": kind,
                                "source_name": rule_name(kind, name), "mode": rule.mode,
                                "imported_ts": epoch(photo["imported_at"]), "due_at": due})
        self.store.autopublish_scanned(photos[-1]["id"], waiting)
        return len(photos)

    def publish_due(self, event_id: int, now: float) -> int:
        due = self.store.autopublish_due(now)
        if not due:  # (every tick: nothing more to read)
            return 0
        queued, bound, rules_of, roles = 0, self.bound_events(), {}, self.store.ftp_account_roles()
        for row in due:
            photo_id = row["photo_id"]
            if not self.camera_may_publish(row["source_kind"], row["source_name"], roles):
                self.store.settle_autopublish(photo_id, "cancelled", "the camera's user is a viewer")
                continue
            own = row["source_kind"] == SourceKind.FTP and bound.get(row["source_name"]) == row["event_id"]
            if row["event_id"] != event_id and not own:
                self.store.settle_autopublish(photo_id, "cancelled", "the current event changed")
                continue
            if row["event_id"] not in rules_of:
                rules_of[row["event_id"]] = self.rules(row["event_id"])
            rule = rules_of[row["event_id"]].get((row["source_kind"], row["source_name"]))
            if rule is None or rule.mode != row["mode"]:  # changed since the photo was looked at
                self.store.settle_autopublish(photo_id, "cancelled", "the rule changed")
                continue
            try:
                pub_id = self.publisher.request(photo_id, {}, once=True, event_id=row["event_id"])
            except PublishSkipped as exc:
                self.store.settle_autopublish(photo_id, "skipped", str(exc))
                log.info("auto-publish of photo %d skipped: %s", photo_id, exc)
                continue
            except LookupError as exc:  # the photo left the buffer, or there is no current event
                self.store.settle_autopublish(photo_id, "skipped", str(exc))
                continue
            self.store.settle_autopublish(photo_id, "requested", publication_id=pub_id)
            log.info("auto-publish: photo %d queued (%s rule, publication %d)", photo_id,
                     row["mode"], pub_id)
            queued += 1
        self.requested += queued
        return queued
