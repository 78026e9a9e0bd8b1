"""The sync service: drains the store's outbox into the bucket.

Rules that keep the gallery whole: a manifest only lists photos whose objects the bucket has
confirmed; an unpublished photo's objects are deleted only after a manifest without it is up;
manifest writes are coalesced into one pending job per event and sent at most once a second.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import bucket, manifest
from .config import Config
from .store import Store, utcnow

log = logging.getLogger(__name__)

MANIFEST_MIN_INTERVAL_S = 1.0
MANIFEST_MAX_WAIT_S = 5.0


class Offline(Exception):
    """The endpoint could not be reached."""


class Syncer:
    """Uploads, deletes and manifest writes from the outbox, with retries and backoff."""

    def __init__(self, config: Config, store: Store, client: Any = None) -> None:
        self.config = config
        self.store = store
        self.client = client or bucket.client(config.bucket)
        self.bucket = config.bucket.bucket
        self.last_manifest_at: dict[int, float] = {}
        self.heartbeat: Callable[[], None] = lambda: None  # called per job (watchdog pings)

    # -- picking -----------------------------------------------------------------------------
    def runnable(self, ignore_backoff: bool = False) -> list[dict[str, Any]]:
        """Pending jobs whose turn has come, in the order they must run."""
        now = 1e18 if ignore_backoff else time.time()
        jobs = self.store.rows(
            "SELECT * FROM jobs WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id",
            (now,),
        )
        uploads_pending = {
            r["event_id"] for r in self.store.rows(
                "SELECT DISTINCT event_id FROM jobs WHERE state = 'pending' AND kind = 'upload'"
            )
        }
        manifests_pending = {
            r["event_id"] for r in self.store.rows(
                "SELECT DISTINCT event_id FROM jobs WHERE state = 'pending' AND kind = 'manifest'"
            )
        }
        order: list[dict[str, Any]] = []
        for job in jobs:
            if job["kind"] == "delete" and job["event_id"] in manifests_pending:
                continue  # the manifest without the photo must be up first
            if job["kind"] == "manifest" and not ignore_backoff:
                waited = time.time() - _epoch(job["created_at"])
                if job["event_id"] in uploads_pending and waited < MANIFEST_MAX_WAIT_S:
                    continue  # coalesce: let the burst of uploads finish first
                last = self.last_manifest_at.get(job["event_id"], 0)
                if time.time() - last < MANIFEST_MIN_INTERVAL_S:
                    continue
            order.append(job)
        # uploads first, then manifests, then deletes
        rank = {"upload": 0, "manifest": 1, "delete": 2}
        return sorted(order, key=lambda j: (rank[j["kind"]], j["id"]))

    # -- doing -------------------------------------------------------------------------------
    def run_job(self, job: dict[str, Any]) -> None:
        """Carry out one job; raises on failure."""
        self.store.set_sync_state(current_key=job["key"])
        try:
            if job["kind"] == "upload":
                self._put_file(job)
                self._after_upload(job)
            elif job["kind"] == "delete":
                self.client.delete_object(Bucket=self.bucket, Key=job["key"])
                self._done(job)
            else:
                self._put_manifest(job)
        finally:
            self.store.set_sync_state(current_key=None)

    def _put(self, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        md5 = hashlib.md5(body)  # noqa: S324 - integrity check, not security
        response = self.client.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=content_type,
            CacheControl=cache_control, ContentMD5=base64.b64encode(md5.digest()).decode(),
        )
        etag = response.get("ETag", "").strip('"')
        if etag and etag != md5.hexdigest():
            raise OSError(f"ETag mismatch for {key}: bucket has {etag}, sent {md5.hexdigest()}")

    def _put_file(self, job: dict[str, Any]) -> None:
        body = Path(job["path"]).read_bytes()
        self._put(job["key"], body, job["content_type"], job["cache_control"])

    def _done(self, job: dict[str, Any]) -> None:
        self.store.conn.execute(
            "UPDATE jobs SET state = 'done', done_at = ?, last_error = NULL WHERE id = ?",
            (utcnow(), job["id"]),
        )

    def _after_upload(self, job: dict[str, Any]) -> None:
        with self.store.transaction():
            self._done(job)
            pub_id = job["publication_id"]
            left = self.store.scalar(
                "SELECT COUNT(*) FROM jobs WHERE publication_id = ? AND kind = 'upload' "
                "AND state = 'pending'", (pub_id,),
            )
            pub = self.store.publication(pub_id)
            if left == 0 and pub and pub["state"] == "published" and not pub["live_at"]:
                self.store.conn.execute(
                    "UPDATE publications SET live_at = ? WHERE id = ?", (utcnow(), pub_id)
                )
                event = self.store.event(pub["event_id"])
                assert event is not None
                self.store.enqueue_manifest(event["id"], self.manifest_key(event["slug"]))

    def manifest_key(self, slug: str) -> str:
        from .publisher import bucket_key

        return bucket_key(self.config, slug, manifest.MANIFEST_NAME)

    def _put_manifest(self, job: dict[str, Any]) -> None:
        body = manifest.encode(manifest.build(self.store, job["event_id"], live_only=True))
        self._put(job["key"], body, job["content_type"], job["cache_control"])
        self.last_manifest_at[job["event_id"]] = time.time()
        # Done only if nothing asked for a newer manifest while this one was uploading.
        self.store.conn.execute(
            "UPDATE jobs SET state = 'done', done_at = ? WHERE id = ? AND version = ?",
            (utcnow(), job["id"], job["version"]),
        )

    def _failed(self, job: dict[str, Any], error: str) -> None:
        attempts = job["attempts"] + 1
        delay = min(self.config.sync.max_backoff_seconds, 2 ** min(attempts, 16) / 2)
        delay = random.uniform(delay / 2, delay)  # full-ish jitter
        self.store.conn.execute(
            "UPDATE jobs SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
            (attempts, time.time() + delay, error, job["id"]),
        )

    # -- loop --------------------------------------------------------------------------------
    def step(self, ignore_backoff: bool = False) -> tuple[int, int]:
        """Run every runnable job once; returns (succeeded, failed). Raises Offline."""
        ok = failed = 0
        for job in self.runnable(ignore_backoff):
            self.heartbeat()
            current = self.store.row("SELECT * FROM jobs WHERE id = ?", (job["id"],))
            if not current or current["state"] != "pending":
                continue
            try:
                self.run_job(current)
            except bucket.OFFLINE_ERRORS as exc:
                self._failed(current, f"offline: {exc}")
                self._went_offline(str(exc))
                raise Offline(str(exc)) from exc
            except (ClientError, BotoCoreError, OSError) as exc:
                failed += 1
                self._failed(current, _describe(exc))
                self.store.set_sync_state(last_error=_describe(exc), last_error_at=utcnow())
                log.warning("job %s %s failed: %s", current["kind"], current["key"], exc)
            else:
                ok += 1
                self.store.set_sync_state(online=1, last_success_at=utcnow())
        return ok, failed

    def _went_offline(self, error: str) -> None:
        self.store.set_sync_state(online=0, last_error=f"offline: {error}", last_error_at=utcnow())

    def probe(self) -> bool:
        """HEAD the bucket; on recovery make every pending job due now."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except bucket.OFFLINE_ERRORS as exc:
            self._went_offline(str(exc))
            return False
        except (ClientError, BotoCoreError) as exc:
            self.store.set_sync_state(last_error=_describe(exc), last_error_at=utcnow())
            return False
        was_offline = self.store.sync_state().get("online") == 0
        self.store.set_sync_state(online=1)
        if was_offline:
            self.store.conn.execute("UPDATE jobs SET next_attempt_at = 0 WHERE state = 'pending'")
        return True

    def drain_once(self) -> int:
        """``appliance sync --once``: try every queued job now; returns how many are left."""
        try:
            for _ in range(3):  # deletes become runnable once their manifest is up
                ok, failed = self.step(ignore_backoff=True)
                if not ok:
                    break
        except Offline:
            pass
        return self.store.queue_depth()["jobs"]

    def run(self, keep_going: Callable[[], bool], sleep: Callable[[float], Any],
            tick: Callable[[], None] = lambda: None) -> None:
        """The service loop: drain, back off while offline, probe for the uplink's return."""
        offline = not self.probe()
        while keep_going():
            tick()
            if offline:
                sleep(2.0)
                offline = not self.probe()
                continue
            try:
                ok, _ = self.step()
            except Offline:
                offline = True
                continue
            if not ok:
                sleep(self.config.sync.poll_seconds)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code', 'Error')}: {err.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
