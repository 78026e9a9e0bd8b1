"""The sync chart's figures from a real store: jobs queued and done per minute from the outbox's
timestamps, failed attempts counted per minute as the syncer records them, the last contact."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from support.rows import published_photo, upload_job

from appliance.store import Store


def iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def backdate(store: Store, job_id: int, created: float, done: float | None = None) -> None:
    """Move a job's timestamps into the past (the outbox stamps them with the current time)."""
    store.conn.execute("UPDATE jobs SET created_at = ?, done_at = ? WHERE id = ?",
                       (iso(created), iso(done) if done else None, job_id))


def test_jobs_and_failures_per_minute(store: Store) -> None:
    now = time.time()
    minute = int(now // 60)
    pub = published_photo(store)
    early = [upload_job(store, pub, f"k/{i}.jpg") for i in range(3)]
    late = [upload_job(store, pub, f"k/late{i}.jpg") for i in range(2)]
    for job_id in early[:2]:
        assert store.finish_job(job_id, "etag", now)
    for job_id in early:
        backdate(store, job_id, now - 600, now - 300 if job_id in early[:2] else None)
    for job_id in late:
        backdate(store, job_id, now - 120)
    store.retry_job(late[0], "timeout", now - 180, now + 10)
    store.retry_job(late[0], "timeout", now - 180, now + 20)
    store.retry_job(late[1], "timeout", now, now + 10)
    other = published_photo(store, "b" * 64)
    cancelled = upload_job(store, other, "k/cancelled.jpg")
    assert store.cancel_pending_uploads(other["id"]) == 1  # unpublished before it went out
    backdate(store, cancelled, now - 60)
    old = upload_job(store, pub, "k/old.jpg")
    backdate(store, old, now - 7200)

    got = store.sync_minutes(now - 3600)
    m = lambda t: int(t // 60)  # noqa: E731
    assert got[m(now - 600)]["queued"] == 3
    assert got[m(now - 300)] == {"queued": 0, "done": 2, "uploaded": 2, "failed": 0}
    assert got[m(now - 180)]["failed"] == 2
    assert got[minute]["failed"] == 1
    assert m(now - 7200) not in got  # before the window
    assert got[m(now - 120)]["queued"] == 2
    assert m(now - 60) not in got  # the cancelled job is left out
    assert sum(c["queued"] for c in got.values()) == 5
    assert store.scalar("SELECT SUM(failed) FROM sync_minutes") == 3


def test_failure_counts_are_kept_a_day(store: Store) -> None:
    now = time.time()
    store.count_sync_failure(now - 2 * 86400)
    store.count_sync_failure(now - 3600)
    store.count_sync_failure(now)
    assert store.scalar("SELECT COUNT(*) FROM sync_minutes") == 2  # the two-day-old minute is gone
    assert sum(c["failed"] for c in store.sync_minutes(now - 7200).values()) == 2


def test_last_contact_is_when_the_bucket_last_answered(store: Store) -> None:
    assert store.sync_state()["last_contact_at"] is None
    store.set_sync_state(online=0, last_error="offline: no route")
    assert store.sync_state()["last_contact_at"] is None
    store.set_sync_state(online=1)
    contact = store.sync_state()["last_contact_at"]
    assert contact and abs(datetime.fromisoformat(contact).timestamp() - time.time()) < 5
    store.set_sync_state(in_flight=2)  # not an answer from the bucket
    assert store.sync_state()["last_contact_at"] == contact
