"""The SQLite store: the only state shared between the appliance's services.

WAL mode, a busy timeout and ``synchronous=FULL`` (a photo recorded here survives a power cut).
The schema is versioned with ``PRAGMA user_version`` and upgraded by :data:`MIGRATIONS`.
:class:`Store` is composed of one mixin per table family over :class:`StoreBase`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .accounts import Accounts
from .admin_views import AdminViews
from .adopted import Adopted
from .audit import Audit
from .autopublish import AutoPublish
from .batches import Batches
from .connection import BUSY_TIMEOUT_MS, StoreBase, connect, epoch, utcnow
from .faces import Faces
from .ftp_accounts import FtpAccounts
from .imports import Imports
from .outbox import Outbox
from .photos import Photos
from .publications import Publications
from .schema import MIGRATIONS
from .second_copies import SecondCopies
from .settings import Settings
from .shards import Shards
from .sync_history import SyncHistory
from .tether_frames import TetherFrames

if TYPE_CHECKING:
    from ..config import Config

__all__ = ["BUSY_TIMEOUT_MS", "MIGRATIONS", "Store", "StoreBase", "connect", "epoch", "open_store",
           "utcnow"]


class Store(AdminViews, Accounts, Audit, Batches, Photos, Imports, Publications, AutoPublish, Shards,
            Adopted, Settings, Faces, Outbox, FtpAccounts, SecondCopies, TetherFrames, SyncHistory):
    """Typed access to the appliance database. One instance per thread."""

    def deletable_unowned(self, event_id: int, key: str) -> bool:
        """Safe mode for a delete of no publication: the event's face index, off since
        (docs/faces.md), or a taken-over shard or unpublished adopted photo (docs/multi.md)."""
        return self.face_index_deletable(event_id, key) or self.adopted_deletable(event_id, key)

    def status(self) -> dict[str, Any]:
        """Counts and sync state for people, scripts and LEDs."""
        sync = self.sync_state()
        event = self.current_event()
        running = self.row(
            "SELECT * FROM imports WHERE state = 'running' ORDER BY id DESC LIMIT 1"
        )
        return {
            "event": event["slug"] if event else None,
            "appliance_id": self.get_setting("appliance.id"),
            "buffer": self.scalar("SELECT COUNT(*) FROM photos WHERE deleted_ts IS NULL"),
            "published": self.scalar("SELECT COUNT(*) FROM publications WHERE state='published'"),
            "publishing": self.scalar(
                "SELECT COUNT(*) FROM publications WHERE state IN ('queued', 'processing')"
            ),
            "failed": self.scalar("SELECT COUNT(*) FROM publications WHERE state = 'failed'"),
            "queue": self.queue_depth(),
            "online": None if sync.get("online") is None else bool(sync["online"]),
            "last_success_at": sync.get("last_success_at"),
            "last_error": sync.get("last_error"),
            "last_error_at": sync.get("last_error_at"),
            "current_upload": sync.get("current_key"),
            "in_flight": sync.get("in_flight") or 0,
            "retrying": self.scalar(
                "SELECT COUNT(*) FROM jobs WHERE state = 'pending' AND attempts > 0"
            ),
            "importing": running is not None,
            "second_copy": self.second_copy_targets(),
        }


def open_store(config: Config) -> Store:
    """The store of a configured appliance: data folders made, schema migrated, its event present."""
    config.ensure_folders()
    store = Store(config.db_path)
    store.ensure_event(config.event.slug, config.event.title, config.event.subtitle)
    store.appliance_id()  # made at first boot; else at the first run (a dev or demo machine)
    return store
