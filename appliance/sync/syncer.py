"""The sync service: drains the store's outbox (uploads, deletes, manifest writes) into the bucket.

Rules that keep the gallery whole:

- a manifest lists only photos whose objects the bucket has confirmed (``publications.live_at``);
- an unpublished photo's objects are deleted only after a manifest without it is confirmed (no
  delete runs while the event has a pending manifest job);
- manifest writes are coalesced into one pending job per event, wait for a burst of uploads to
  finish (at most :data:`MANIFEST_MAX_WAIT_S`) and go out at most once a second per event;
- an event's live channel hears of a manifest only once the bucket confirmed it (:mod:`.live_notify`);
- safe mode: the only objects ever deleted are those this appliance uploaded for a publication
  that has since been unpublished, and an event's faces.bin it uploaded once face search is off.
A job is marked done only after the bucket answered; a crash in between repeats the (idempotent)
request. The database work happens on the calling thread; a small pool of threads only talks HTTP.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ..config import Config
from ..publish import manifest
from ..store import JobKind, PublicationState, Store, epoch, utcnow
from . import bucket
from .clock import BucketClock
from .live_notify import LiveNotifier

log = logging.getLogger(__name__)

MANIFEST_MIN_INTERVAL_S = 1.0  # R2 allows about one write per second to the same key
MANIFEST_MAX_WAIT_S = 5.0  # longest a manifest waits for a burst of uploads to finish
PROBE_INTERVAL_S = 2.0  # while offline: how often to check whether the uplink is back
IDLE_PROBE_S = 30.0  # while idle: how often to check the uplink (keeps online/offline honest)
BACKOFF_BASE_S = 1.0
STATE_INTERVAL_S = 0.5  # how often the in-flight state (current upload) is written for people
IDLE_SLICE_S = 0.05  # idle: how often to look for commits by other services (PRAGMA data_version)

Job = dict[str, Any]


class Offline(Exception):
    """The endpoint could not be reached."""


class Syncer:
    """Runs outbox jobs against the bucket with a few parallel requests, retries and backoff."""

    def __init__(self, config: Config, store: Store, client: Any = None,
                 workers: int | None = None) -> None:
        self.config = config
        self.store = store
        self.workers = workers or config.sync.workers
        self.client = client or bucket.client(config.bucket, pool_size=self.workers + 2)
        self.bucket = config.bucket.bucket
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="sync")
        # Jobs handed to the pool at once: one running per worker plus one waiting, so workers do
        # not idle while this thread records results in the store.
        self.depth = self.workers * 2
        self.in_flight: dict[Future[Any], Job] = {}
        self.online: bool | None = None
        self.last_manifest_at: dict[int, float] = store.last_manifest_attempts()
        self.notifier = LiveNotifier(config, store)
        self.clock = BucketClock.watching(self.client)
        self._state_written = 0.0
        self._shown: tuple[int, str | None] = (-1, None)

    # -- choosing ------------------------------------------------------------------------------
    def runnable(self, ignore_backoff: bool = False, kinds: tuple[str, ...] = (JobKind.MANIFEST,
                 JobKind.NOTIFY, JobKind.DELETE, JobKind.UPLOAD)) -> list[Job]:
        """Pending jobs that may start now, in the order to start them.

        Ready manifests come first (they are rare and keep the gallery current), then deletes
        (only for events with no pending manifest), then uploads oldest first. Jobs already in
        flight, and jobs on a key that is in flight, are left out. ``ignore_backoff`` (used by
        ``sync --once``) ignores retry times and the coalescing wait, not the one-write-a-second rule.
        """
        now = time.time()
        due = float("inf") if ignore_backoff else now
        busy_ids = {j["id"] for j in self.in_flight.values()}
        busy_keys = {j["key"] for j in self.in_flight.values()}
        limit = self.depth + len(busy_ids)
        found: list[Job] = []
        if JobKind.MANIFEST in kinds:
            for job in self.store.due_manifests(due):
                if self._manifest_ready(job, now, coalesce=not ignore_backoff):
                    found.append(job)
        if JobKind.NOTIFY in kinds:
            found += self.store.due_notifies(due)
        if JobKind.DELETE in kinds:
            found += self.store.due_deletes(due, limit)
        if JobKind.UPLOAD in kinds:
            found += self.store.due_uploads(due, limit)
        return [j for j in found if j["id"] not in busy_ids and j["key"] not in busy_keys]

    def _manifest_ready(self, job: Job, now: float, coalesce: bool) -> bool:
        event_id = job["event_id"]
        if now - self.last_manifest_at.get(event_id, 0.0) < MANIFEST_MIN_INTERVAL_S:
            return False
        if not coalesce or now - epoch(job["created_at"]) >= MANIFEST_MAX_WAIT_S:
            return True
        # Coalesce: while photos of this event are still being rendered or uploaded, wait.
        return not self.store.event_busy(event_id)

    def next_due(self) -> float:
        """Seconds until some pending job may become runnable (a hint for the idle wait)."""
        now = time.time()
        soonest = self.store.next_attempt_after(now)
        waits = [soonest - now] if soonest is not None else []
        for row in self.store.pending_manifests():
            waits.append(self.last_manifest_at.get(row["event_id"], 0.0) + MANIFEST_MIN_INTERVAL_S - now)
            waits.append(epoch(row["created_at"]) + MANIFEST_MAX_WAIT_S - now)
        future = [w for w in waits if w > 0]
        return min(future) if future else float("inf")

    # -- starting ------------------------------------------------------------------------------
    def dispatch(self, jobs: list[Job]) -> list[Job]:
        """Start jobs on free workers; returns the jobs started."""
        started: list[Job] = []
        for job in jobs:
            if len(self.in_flight) >= self.depth:
                break
            if any(j["id"] == job["id"] or j["key"] == job["key"] for j in self.in_flight.values()):
                continue
            work = self._prepare(job)
            if work is None:
                continue
            self.in_flight[self.pool.submit(work)] = job
            started.append(job)
        if started:
            self._write_state()
        return started

    def _prepare(self, job: Job) -> Callable[[], Any] | None:
        """What a worker thread runs for ``job`` (reads the store here, on the calling thread)."""
        client, name = self.client, self.bucket
        if job["kind"] == JobKind.UPLOAD:
            item = dict(key=job["key"], content_type=job["content_type"] or "application/octet-stream",
                        cache_control=job["cache_control"] or "no-cache")
            path = Path(job["path"])
            return lambda: bucket.put(client, name, bucket.Put(body=path.read_bytes(), **item))
        if job["kind"] == JobKind.DELETE:
            if refusal := self._delete_refusal(job):
                self._refuse(job, refusal)
                return None
            return lambda: bucket.delete(client, name, job["key"])
        if job["kind"] == JobKind.NOTIFY:
            return self.notifier.prepare(job)
        self.clock.save(self.store)
        with self.store.transaction(immediate=False):  # version and content from one snapshot
            version = self.store.job_version(job["id"])
            body = manifest.encode(manifest.build(self.store, job["event_id"], live_only=True))
            event = self.store.event(job["event_id"])
            keys = manifest.manifest_keys(self.config, self.store, event) if event else [job["key"]]
        job["version"] = version
        items = [bucket.Put(key, body, job["content_type"] or "application/json",
                            job["cache_control"] or "public, max-age=5") for key in keys]
        return lambda: [bucket.put(client, name, item) for item in items][-1]  # shard last

    def _delete_refusal(self, job: Job) -> str | None:
        """Safe mode: why this delete must not run (None: it may)."""
        if not job["publication_id"] and self.store.deletable_unowned(job["event_id"], job["key"]):
            return None  # the event's face index off since, or a taken-over shard or photo
        pub = self.store.publication(job["publication_id"]) if job["publication_id"] else None
        if pub is None:
            return "safe mode: not an object of a publication of this appliance"
        if pub["state"] != PublicationState.UNPUBLISHED:
            return f"safe mode: publication {pub['id']} is {pub['state']}, not unpublished"
        if not self.store.uploaded_for(pub["id"], job["key"]):
            return f"safe mode: {job['key']} was never uploaded for publication {pub['id']}"
        return None

    def _refuse(self, job: Job, reason: str) -> None:
        log.warning("refusing to delete %s: %s", job["key"], reason)
        self.store.refuse_job(job["id"], reason)
        self.store.set_sync_state(last_error=reason, last_error_at=utcnow())

    # -- finishing -----------------------------------------------------------------------------
    def collect(self, timeout: float | None) -> tuple[int, int]:
        """Record the jobs that finished within ``timeout``; returns (succeeded, failed).

        Raises :class:`Offline` (after recording everything) when the endpoint was unreachable.
        """
        if not self.in_flight:
            return 0, 0
        finished, _ = wait(list(self.in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
        ok = failed = 0
        offline: BaseException | None = None
        now = time.time()
        with self.store.transaction():
            for future in finished:
                job = self.in_flight.pop(future)
                error = future.exception()
                if error is None:
                    self._succeeded(job, future.result(), now)
                    ok += 1
                    continue
                failed += 1
                if isinstance(error, bucket.OFFLINE_ERRORS):
                    offline = error
                    message = f"offline: {error}"
                else:
                    message = describe(error)
                    if not isinstance(error, ClientError | OSError):
                        log.error("job %s %s: unexpected error", job["kind"], job["key"],
                                  exc_info=error)
                log.warning("job %s %s failed: %s", job["kind"], job["key"], message)
                self._failed(job, message, now)
                self.store.set_sync_state(last_error=message, last_error_at=utcnow())
            if ok:
                self.store.set_sync_state(online=1, last_success_at=utcnow())
            self._write_state(force=True)
        if offline is not None:
            self._went_offline(str(offline))
            raise Offline(str(offline))
        if ok:
            self.online = True
        return ok, failed

    def _succeeded(self, job: Job, etag: str | None, now: float) -> None:
        if job["kind"] == JobKind.MANIFEST:
            self.last_manifest_at[job["event_id"]] = now
            # Done only if nothing asked for a newer manifest since this one was built.
            self.store.finish_manifest_job(job["id"], job["version"], etag, now)
            self.notifier.manifest_written(job["event_id"])
            return
        done = self.store.finish_job(job["id"], etag, now, job["version"])
        if job["kind"] == JobKind.UPLOAD and done and job["publication_id"]:
            self._maybe_live(job["publication_id"])

    def _maybe_live(self, publication_id: int) -> None:
        """A publication whose uploads are all confirmed goes live and asks for a manifest."""
        left = self.store.pending_uploads_of(publication_id)
        pub = self.store.publication(publication_id)
        if left == 0 and pub and pub["state"] == PublicationState.PUBLISHED and not pub["live_at"]:
            self.store.set_live(publication_id)
            event = self.store.event(pub["event_id"])
            assert event is not None
            key = manifest.manifest_keys(self.config, self.store, event)[0]  # this appliance's shard
            self.store.enqueue_manifest(event["id"], key)

    def _failed(self, job: Job, error: str, now: float) -> None:
        attempts = job["attempts"] + 1
        delay = min(self.config.sync.max_backoff_seconds, BACKOFF_BASE_S * 2 ** min(attempts - 1, 20))
        delay = random.uniform(delay / 2, delay)  # jitter: many appliances must not retry in step
        self.store.retry_job(job["id"], error, now, next_attempt_at=now + delay)
        if job["kind"] == JobKind.MANIFEST:
            self.last_manifest_at[job["event_id"]] = now  # a failed write still counts for R2

    # -- state for people and LEDs ---------------------------------------------------------------
    def _write_state(self, force: bool = False) -> None:
        """Record how many requests are in flight and the oldest one's key (throttled)."""
        jobs = sorted(self.in_flight.values(), key=lambda j: j["id"])
        shown = (len(jobs), jobs[0]["key"] if jobs else None)
        now = time.monotonic()
        changed = shown != self._shown
        if not changed or (not force and shown[0] and self._shown[0] > 0
                           and now - self._state_written < STATE_INTERVAL_S):
            return
        self.store.set_sync_state(in_flight=shown[0], current_key=shown[1])
        self._shown, self._state_written = shown, now

    def _went_offline(self, error: str) -> None:
        self.online = False
        self.store.set_sync_state(online=0, last_error=f"offline: {error}", last_error_at=utcnow())

    def probe(self) -> bool:
        """Is the endpoint reachable? Any HTTP answer counts. On recovery every job is due now."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except bucket.OFFLINE_ERRORS as exc:
            self._went_offline(str(exc))
            return False
        except ClientError:
            pass  # the endpoint answered (e.g. 403 for a token scoped to objects): we are online
        except Exception as exc:  # e.g. missing credentials: show it, keep trying
            self.store.set_sync_state(last_error=describe(exc), last_error_at=utcnow())
            return False
        was_offline = self.online is False or self.store.sync_state().get("online") == 0
        with self.store.transaction():
            self.store.set_sync_state(online=1)
            if was_offline:
                self.store.retry_all_now()
        self.online = True
        return True

    # -- driving -------------------------------------------------------------------------------
    def run_job(self, job: Job) -> None:
        """Run one job to completion (tests, tools); raises :class:`Offline`."""
        if self.dispatch([job]):
            while self.in_flight:
                self.collect(timeout=None)

    def finish_in_flight(self) -> None:
        """Wait for running requests and record them (errors included)."""
        while self.in_flight:
            with contextlib.suppress(Offline):
                self.collect(timeout=None)

    def drain_once(self) -> int:
        """``appliance sync --once``: uploads, then manifests, then deletes, each job tried once
        (retry times ignored); returns how many jobs are left."""
        self.online = True
        try:
            for kind in (JobKind.UPLOAD, JobKind.MANIFEST, JobKind.NOTIFY, JobKind.DELETE):
                self._drain_kind(kind)
        except Offline:
            self.finish_in_flight()
        return self.store.queue_depth()["jobs"]

    def _drain_kind(self, kind: str) -> None:
        tried: set[tuple[int, int]] = set()
        while True:
            jobs = [j for j in self.runnable(ignore_backoff=True, kinds=(kind,))
                    if (j["id"], j["version"]) not in tried]
            if not jobs and not self.in_flight:
                wait_s = self._manifest_interval_wait(tried) if kind == JobKind.MANIFEST else None
                if wait_s is None:
                    return
                time.sleep(wait_s)
                continue
            for job in self.dispatch(jobs):
                tried.add((job["id"], job["version"]))
            self.collect(timeout=None)

    def _manifest_interval_wait(self, tried: set[tuple[int, int]]) -> float | None:
        """Seconds until an untried pending manifest may go out (one write a second)."""
        now = time.time()
        waits = [
            self.last_manifest_at.get(m["event_id"], 0.0) + MANIFEST_MIN_INTERVAL_S - now
            for m in self.store.pending_manifests()
            if (m["id"], m["version"]) not in tried
        ]
        return max(0.0, min(waits)) + 0.01 if waits else None

    def run(self, keep_going: Callable[[], bool], sleep: Callable[[float], Any],
            tick: Callable[[], None] = lambda: None) -> None:
        """The service loop: drain, back off while offline, probe for the uplink's return."""
        self._write_state(force=True)  # clears what a killed predecessor left in sync_state
        self.probe()
        last_tick = 0.0
        last_probe = time.monotonic()
        try:
            while keep_going():
                if time.monotonic() - last_tick >= STATE_INTERVAL_S:
                    tick()
                    last_tick = time.monotonic()
                if not self.online:
                    self.finish_in_flight()
                    sleep(PROBE_INTERVAL_S)
                    if keep_going():
                        self.probe()
                    continue
                if self.dispatch(self.runnable()):
                    last_probe = time.monotonic()  # a request is as good as a probe
                elif not self.in_flight and time.monotonic() - last_probe > IDLE_PROBE_S:
                    self.probe()
                    last_probe = time.monotonic()
                    continue
                if self.in_flight:
                    try:
                        self.collect(timeout=self.config.sync.poll_seconds)
                    except Offline:
                        continue
                else:
                    self._idle(sleep, keep_going)
        finally:
            self.close()

    def _idle(self, sleep: Callable[[float], Any], keep_going: Callable[[], bool]) -> None:
        """Wait for a commit by another service, a job coming due, or ``poll_seconds``."""
        deadline = time.monotonic() + min(self.config.sync.poll_seconds, self.next_due())
        seen = self.store.data_version()
        while keep_going() and time.monotonic() < deadline:
            sleep(IDLE_SLICE_S)
            if self.store.data_version() != seen:
                return

    def close(self) -> None:
        """Let running requests finish and record them; clear the in-flight state."""
        self.finish_in_flight()
        self.pool.shutdown(wait=True)
        self._write_state(force=True)


def describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        text = f"{err.get('Code', 'Error')}: {err.get('Message', '')}".strip().rstrip(":")
        return f"HTTP {status} {text}" if status else text
    return f"{type(exc).__name__}: {exc}"
