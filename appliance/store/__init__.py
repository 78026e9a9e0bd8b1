"""The SQLite store: schema, migrations and typed access; the only package that holds SQL."""

from .accounts import ROLES, role_rank
from .database import BUSY_TIMEOUT_MS, MIGRATIONS, Store, connect, epoch, open_store, utcnow
from .publications import PublishSkipped
from .settings import read_setting
from .states import (
    CardState,
    ImportState,
    ImportStatus,
    JobKind,
    JobState,
    PublicationState,
    SyncStatus,
)

__all__ = [
    "BUSY_TIMEOUT_MS", "MIGRATIONS", "ROLES",
    "CardState", "ImportState", "ImportStatus", "JobKind", "JobState",
    "PublicationState", "PublishSkipped", "Store", "SyncStatus", "connect", "epoch", "open_store",
    "read_setting", "role_rank",
    "utcnow",
]
