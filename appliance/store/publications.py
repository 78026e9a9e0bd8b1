"""Publications: a buffer photo published in an event under a unique name.

A publication is queued, claimed by a publish worker (processing), then published or failed; an
unpublished one keeps its row (and its name: names are never reused). ``live_at`` is set once the
bucket has confirmed all of its objects, which is when manifests may list it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from .connection import utcnow
from .shards import Shards
from .states import PublicationState


class PublishSkipped(Exception):
    """A publication asked for ``once`` that would be a duplicate or of a rejected photo."""


class Publications(Shards):
    """Publications (queue, claims, outcomes, live state)."""

    def request_publication(self, photo_id: int, recipe: dict[str, Any], base: str,
                            once: bool = False, event_id: int | None = None) -> int:
        """Queue a publication of a photo in the current event (or ``event_id``), reserving its
        unique name.

        ``once`` (auto-publish): raise :class:`PublishSkipped` instead when the photo is rejected or
        has ever had a publication in the event (checked in the same transaction).
        """
        with self.transaction():
            event_id = event_id or self.get_setting("current_event_id")
            if event_id is None:
                raise LookupError("no current event")
            if once:
                self._publish_once_check(photo_id, event_id)
            return self.insert_publication(photo_id, recipe, base, event_id)

    def insert_publication(self, photo_id: int, recipe: dict[str, Any], base: str, event_id: int) -> int:
        """Queue a publication under the next free name of ``base`` (inside the caller's
        transaction: a batch's names follow each other)."""
        base = self.name_tag(event_id) + base  # shared event: "<appliance id>.<base>", never a peer's
        seq = (
            self.scalar(
                "SELECT MAX(seq) FROM publications WHERE event_id = ? AND base = ?",
                (event_id, base),
            )
            or 0
        ) + 1
        while True:
            name = base if seq == 1 else f"{base}_{seq:03d}"
            taken = self.scalar(
                "SELECT 1 FROM publications WHERE event_id = ? AND name = ?", (event_id, name)
            )
            if not taken:
                break
            seq += 1
        cursor = self.conn.execute(
            "INSERT INTO publications (photo_id, event_id, base, seq, name, recipe, state, "
            "requested_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)",
            (photo_id, event_id, base, seq, name, json.dumps(recipe), utcnow()),
        )
        return int(cursor.lastrowid or 0)

    def _publish_once_check(self, photo_id: int, event_id: int) -> None:
        if self.scalar("SELECT 1 FROM photo_rejections WHERE photo_id = ?", (photo_id,)):
            raise PublishSkipped("rejected")
        state = self.scalar("SELECT state FROM publications WHERE photo_id = ? AND event_id = ? "
                            "ORDER BY id DESC LIMIT 1", (photo_id, event_id))
        if state is not None:
            raise PublishSkipped(f"already {state} in this event")

    def publication(self, publication_id: int) -> dict[str, Any] | None:
        return self.row("SELECT * FROM publications WHERE id = ?", (publication_id,))

    def claim_publication(self, publication_id: int | None = None) -> dict[str, Any] | None:
        """Atomically take a queued publication (a given one, or the oldest) for processing."""
        with self.transaction():
            if publication_id is None:
                publication_id = self.scalar(
                    "SELECT id FROM publications WHERE state = 'queued' ORDER BY id LIMIT 1"
                )
                if publication_id is None:
                    return None
            cursor = self.conn.execute(
                "UPDATE publications SET state = 'processing', claimed_at = ? "
                "WHERE id = ? AND state = 'queued'",
                (time.time(), publication_id),
            )
            if cursor.rowcount != 1:
                return None
            return self.publication(publication_id)

    def release_stale_claims(self, older_than_s: float = 300) -> int:
        """Requeue publications whose worker died mid-way."""
        cursor = self.conn.execute(
            "UPDATE publications SET state = 'queued', claimed_at = NULL "
            "WHERE state = 'processing' AND claimed_at < ?",
            (time.time() - older_than_s,),
        )
        return cursor.rowcount

    def fail_publication(self, publication_id: int, error: str) -> None:
        self.conn.execute(
            "UPDATE publications SET state = ?, error = ? WHERE id = ?",
            (PublicationState.FAILED, error, publication_id),
        )

    def mark_published(self, publication_id: int, *, width: int, height: int, thumb_width: int,
                       thumb_height: int, color: str, placeholder: str | None, webp: bool,
                       original: bool = False) -> None:
        """Record a rendered publication (its files are written; uploads are queued beside it)."""
        self.conn.execute(
            "UPDATE publications SET state = ?, error = NULL, published_at = ?, "
            "width = ?, height = ?, thumb_width = ?, thumb_height = ?, color = ?, "
            "placeholder = ?, webp = ?, original = ? WHERE id = ?",
            (PublicationState.PUBLISHED, utcnow(), width, height, thumb_width, thumb_height, color,
             placeholder, int(webp), int(original), publication_id),
        )

    def mark_unpublished(self, publication_id: int) -> None:
        self.conn.execute(
            "UPDATE publications SET state = ?, unpublished_at = ? WHERE id = ?",
            (PublicationState.UNPUBLISHED, utcnow(), publication_id),
        )

    def set_live(self, publication_id: int, live: bool = True) -> None:
        """Mark a publication's objects as confirmed in the bucket (now), or as not confirmed."""
        self.conn.execute(
            "UPDATE publications SET live_at = ? WHERE id = ?",
            (utcnow() if live else None, publication_id),
        )

    def publications_waiting(self, event_id: int) -> int:
        """Publications of the event still queued or being rendered."""
        return int(self.scalar(
            "SELECT COUNT(*) FROM publications WHERE event_id = ? "
            "AND state IN ('queued', 'processing')", (event_id,),
        ))

    def published(self, event_id: int, live_only: bool = False) -> list[dict[str, Any]]:
        """Published photos of an event, newest first (``live_only``: confirmed in the bucket)."""
        live = "AND p.live_at IS NOT NULL" if live_only else ""
        return self.rows(
            f"""SELECT p.*, ph.capture_time, ph.camera_make, ph.camera_model
                FROM publications p JOIN photos ph ON ph.id = p.photo_id
                WHERE p.event_id = ? AND p.state = 'published' {live}
                ORDER BY p.published_at DESC, p.id DESC""",
            (event_id,),
        )
