"""The state strings stored in the database, defined once.

Each is a :class:`~enum.StrEnum`: members compare equal to the stored text and bind to SQLite as
that text, so rows read back (plain strings) compare with them directly. The SQL in this package
spells some of them inline where a partial index needs the literal (``state = 'pending'``).
"""

from __future__ import annotations

from enum import StrEnum


class JobKind(StrEnum):
    """What an outbox job does to the bucket."""

    UPLOAD = "upload"
    DELETE = "delete"
    MANIFEST = "manifest"
    NOTIFY = "notify"  # tell the event's live channel that a new manifest is in the bucket


class JobState(StrEnum):
    """An outbox job: pending until the bucket answered (or safe mode refused it)."""

    PENDING = "pending"
    DONE = "done"
    REFUSED = "refused"  # a delete that safe mode does not allow
    CANCELLED = "cancelled"  # an upload of a photo unpublished before it went out


class PublicationState(StrEnum):
    """A publication of a buffer photo in an event."""

    QUEUED = "queued"
    PROCESSING = "processing"
    PUBLISHED = "published"
    FAILED = "failed"
    UNPUBLISHED = "unpublished"


class ImportState(StrEnum):
    """An import of a card or a hot folder."""

    RUNNING = "running"
    DONE = "done"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


class CardState(StrEnum):
    """An inserted card, as shown by the admin and the LEDs."""

    MOUNTING = "mounting"
    IMPORTING = "importing"
    SAFE_TO_REMOVE = "safe_to_remove"
    INTERRUPTED = "interrupted"
    ERROR = "error"
    REMOVED = "removed"


class SyncStatus(StrEnum):
    """A publication as the admin shows it, derived from its row and its outbox jobs (not stored)."""

    PUBLISHING = "publishing"
    QUEUED = "queued"
    UPLOADING = "uploading"
    RETRYING = "retrying"
    LIVE = "live"
    FAILED = "failed"


class ImportStatus(StrEnum):
    """The card banner: an import running, one finished a moment ago, or nothing (not stored)."""

    IMPORTING = "importing"
    DONE = "done"
    IDLE = "idle"
