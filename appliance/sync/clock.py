"""How far this appliance's clock is from the bucket's, from the ``Date`` header of its answers.

Every answer of the bucket carries its time (one-second resolution); the median of the last few
differences is this appliance's offset, kept in the store (``clock.bucket_offset_s``) and written
into its manifest shard, so the gallery can put several appliances' photos in one time order even
when one of them has no NTP (a Pi has no real-time clock).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from email.utils import parsedate_to_datetime
from typing import Any

from ..store import Store
from ..store.shards import BUCKET_OFFSET_SETTING

SAMPLES = 15


def offset_from(date_header: str | None, received_at: float) -> float | None:
    """The bucket's time minus ours for an answer received at ``received_at`` (None: no date)."""
    if not date_header:
        return None
    try:
        server = parsedate_to_datetime(date_header).timestamp()
    except (TypeError, ValueError):
        return None
    return server + 0.5 - received_at  # the header is truncated to the second


class BucketClock:
    """Collects offsets from a boto3 client's answers (thread-safe: the sync pool calls it)."""

    def __init__(self) -> None:
        self.samples: deque[float] = deque(maxlen=SAMPLES)
        self.lock = threading.Lock()
        self.saved: float | None = None

    @classmethod
    def watching(cls, client: Any) -> BucketClock:
        """A clock fed by every answer ``client`` (a boto3 S3 client) gets."""
        clock = cls()
        events = getattr(getattr(client, "meta", None), "events", None)
        if events is not None:
            events.register("after-call.s3", clock.after_call)
        return clock

    def after_call(self, http_response: Any = None, **_: Any) -> None:
        headers = getattr(http_response, "headers", None) or {}
        offset = offset_from(headers.get("Date") or headers.get("date"), time.time())
        if offset is not None:
            with self.lock:
                self.samples.append(offset)

    def offset(self) -> float | None:
        with self.lock:
            return statistics.median(self.samples) if self.samples else None

    def save(self, store: Store) -> None:
        """Keep the current estimate in the store when it moved by half a second or more."""
        offset = self.offset()
        if offset is not None and (self.saved is None or abs(offset - self.saved) >= 0.5):
            store.set_setting(BUCKET_OFFSET_SETTING, round(offset, 1))
            self.saved = offset
