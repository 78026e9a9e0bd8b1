"""Tell the gallery's live channel that an event's new manifest is in the bucket.

The channel is one Durable Object per event (``functions/_live/channel.js``); its guests fetch
the manifest as soon as it announces a new version. A notify job is queued only after the bucket
confirmed a manifest write (a guest is never told about a photo it cannot load) and waits in the
outbox like every other job while the appliance is offline.

The request (checked by ``functions/_lib/live.js``)::

    POST <live.url>/live/<event>/notify
    X-Live-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(event key, "<t>.<body>")>
    {"id": "<sender>-<job id>.<version>", "version": <job id>}

with the event key ``HMAC-SHA256(live.secret, "gallery-live/v1/<event>")``. The channel refuses a
replayed id: a 409 means an earlier attempt already got through (its answer was lost).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ..config import Config
from ..store import Store

KEY_LABEL = "gallery-live/v1/"
SENDER_SETTING = "live.sender"


class NotifyError(OSError):
    """The live channel did not take the notify (never an "offline" of the bucket)."""


def event_key(secret: str, event: str) -> bytes:
    return hmac.new(secret.encode(), (KEY_LABEL + event).encode(), hashlib.sha256).digest()


def signature(key: bytes, t: int, body: str) -> str:
    mac = hmac.new(key, f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def channel_base(config: Config, store: Store) -> str:
    """Origin of the gallery that hosts /live/ (``live.url``, else the gallery URL's origin)."""
    url = config.live.url or store.get_setting("gallery_url") or config.admin.gallery_url
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/') if config.live.url else ''}"


def sender_id(store: Store) -> str:
    """A random name of this appliance's store, so notify ids never repeat after a reset."""
    sender = store.get_setting(SENDER_SETTING)
    if not isinstance(sender, str) or not sender:
        sender = secrets.token_hex(6)
        store.set_setting(SENDER_SETTING, sender)
    return sender


class LiveNotifier:
    """Builds and sends the notify of an outbox job."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config, self.store = config, store

    @property
    def enabled(self) -> bool:
        return bool(self.config.live.secret and channel_base(self.config, self.store))

    def manifest_written(self, event_id: int) -> None:
        """The bucket confirmed a manifest of the event: queue its notify (when push is on)."""
        event = self.store.event(event_id)
        if event and self.enabled:
            self.store.enqueue_notify(event_id, f"live/{event['slug']}")

    def prepare(self, job: dict[str, Any]) -> Callable[[], None]:
        """The request for ``job`` (store read here, on the calling thread)."""
        event = self.store.event(job["event_id"])
        if event is None:
            raise LookupError(f"no event {job['event_id']}")
        body = json.dumps({"id": f"{sender_id(self.store)}-{job['id']}.{job['version']}",
                           "version": job["id"]}, separators=(",", ":"))
        url = f"{channel_base(self.config, self.store)}/live/{event['slug']}/notify"
        key = event_key(self.config.live.secret, event["slug"])
        return lambda: self.send(url, key, body)

    def send(self, url: str, key: bytes, body: str) -> None:
        request = urllib.request.Request(url, data=body.encode(), method="POST", headers={
            "Content-Type": "application/json",
            "X-Live-Signature": signature(key, int(time.time()), body),
        })
        try:
            with urllib.request.urlopen(request, timeout=self.config.live.timeout):
                return
        except urllib.error.HTTPError as exc:
            if exc.code == 409:  # this very notify got through before (its answer was lost)
                return
            raise NotifyError(f"live channel refused the notify: HTTP {exc.code} "
                              f"{_reason(exc)}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise NotifyError(f"live channel unreachable: {reason}") from None


def _reason(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read(512) or b"{}").get("error", ""))[:200]
    except (ValueError, AttributeError, OSError):
        return ""
