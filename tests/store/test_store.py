"""The SQLite store: pragmas, migrations, photo identity, publication names, the outbox."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from support.rows import buffered_photo

from appliance.store import BUSY_TIMEOUT_MS, MIGRATIONS, Store


def test_pragmas_and_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "appliance.db"
    store = Store(path)
    try:
        assert path.exists()
        assert store.scalar("PRAGMA journal_mode") == "wal"
        assert store.scalar("PRAGMA busy_timeout") == BUSY_TIMEOUT_MS
        assert BUSY_TIMEOUT_MS >= 1000
        assert store.scalar("PRAGMA synchronous") == 2  # FULL
        assert store.scalar("PRAGMA foreign_keys") == 1
        assert store.schema_version == len(MIGRATIONS) >= 1
    finally:
        store.close()
    # the database file itself is in WAL mode (persistent), seen by a plain connection
    plain = sqlite3.connect(path)
    try:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert plain.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    finally:
        plain.close()


def test_migrate_is_idempotent_on_reopen(tmp_path: Path) -> None:
    path = tmp_path / "appliance.db"
    first = Store(path)
    first.ensure_event("party", "Party")
    photo_id = buffered_photo(first, "a" * 64)
    first.close()
    again = Store(path)  # would fail with "table events already exists" if migrations re-ran
    try:
        again.migrate()
        assert again.schema_version == len(MIGRATIONS)
        assert again.photo(photo_id)["sha256"] == "a" * 64
        assert again.current_event()["slug"] == "party"
        assert again.scalar("SELECT COUNT(*) FROM sync_state") == 1
    finally:
        again.close()


def test_add_photo_identity_is_sha256(store: Store) -> None:
    first_id, created = store.add_photo(
        sha256="b" * 64, original_name="IMG_0001.JPG", buffer_path="bb/x.jpg", size=10
    )
    assert created is True
    second_id, created = store.add_photo(
        sha256="b" * 64, original_name="OTHER.JPG", buffer_path="bb/y.jpg", size=10
    )
    assert created is False
    assert second_id == first_id
    assert store.photo(first_id)["original_name"] == "IMG_0001.JPG"  # first record kept
    assert store.scalar("SELECT COUNT(*) FROM photos") == 1
    third_id, created = store.add_photo(
        sha256="c" * 64, original_name="IMG_0001.JPG", buffer_path="cc/x.jpg", size=10
    )
    assert created is True and third_id != first_id


def test_ensure_event_sets_current_once(store: Store) -> None:
    first = store.current_event()["id"]
    other = store.ensure_event("other", "Other")
    assert other != first
    assert store.current_event()["id"] == first
    assert store.ensure_event("party", "Renamed") == first


def test_publication_names_follow_a_never_reused_sequence(store: Store) -> None:
    photo_id = buffered_photo(store, "d" * 64)
    ids = [store.request_publication(photo_id, {}, "IMG_7109") for _ in range(3)]
    names = [store.publication(i)["name"] for i in ids]
    assert names == ["IMG_7109", "IMG_7109_002", "IMG_7109_003"]
    assert [store.publication(i)["seq"] for i in ids] == [1, 2, 3]
    # unpublishing frees nothing: the next name continues the sequence
    store.conn.execute(
        "UPDATE publications SET state = 'unpublished' WHERE id IN (?, ?, ?)", tuple(ids)
    )
    nxt = store.request_publication(photo_id, {}, "IMG_7109")
    assert store.publication(nxt)["name"] == "IMG_7109_004"
    # another base starts its own sequence
    other = store.request_publication(photo_id, {}, "IMG_7110")
    assert store.publication(other)["name"] == "IMG_7110"


def test_same_base_different_photos_get_distinct_names(store: Store) -> None:
    a = buffered_photo(store, "e" * 64, "IMG_0001.JPG")
    b = buffered_photo(store, "f" * 64, "IMG_0001.JPG")
    pa = store.publication(store.request_publication(a, {}, "IMG_0001"))
    pb = store.publication(store.request_publication(b, {}, "IMG_0001"))
    assert {pa["name"], pb["name"]} == {"IMG_0001", "IMG_0001_002"}
    assert pa["photo_id"] == a and pb["photo_id"] == b


def test_name_sequence_skips_names_taken_by_another_base(store: Store) -> None:
    photo_id = buffered_photo(store, "1" * 64)
    # a photo literally named IMG_7109_002 takes that name first
    store.request_publication(photo_id, {}, "IMG_7109_002")
    first = store.request_publication(photo_id, {}, "IMG_7109")
    second = store.request_publication(photo_id, {}, "IMG_7109")
    assert store.publication(first)["name"] == "IMG_7109"
    assert store.publication(second)["name"] == "IMG_7109_003"


def test_names_are_per_event(store: Store) -> None:
    photo_id = buffered_photo(store, "2" * 64)
    store.request_publication(photo_id, {}, "IMG_1")
    other = store.ensure_event("other", "Other")
    store.set_setting("current_event_id", other)
    pub = store.publication(store.request_publication(photo_id, {}, "IMG_1"))
    assert pub["event_id"] == other
    assert pub["name"] == "IMG_1"


def test_request_publication_without_event_raises(tmp_path: Path) -> None:
    store = Store(tmp_path / "x.db")
    try:
        photo_id = buffered_photo(store, "3" * 64)
        with pytest.raises(LookupError):
            store.request_publication(photo_id, {}, "IMG")
        assert store.scalar("SELECT COUNT(*) FROM publications") == 0
    finally:
        store.close()


def test_enqueue_manifest_coalesces(store: Store) -> None:
    event_id = store.current_event()["id"]
    for _ in range(5):
        store.enqueue_manifest(event_id, "events/party/manifest.json")
    jobs = store.rows("SELECT * FROM jobs WHERE kind = 'manifest'")
    assert len(jobs) == 1
    assert jobs[0]["state"] == "pending"
    assert jobs[0]["version"] == 5
    assert jobs[0]["cache_control"] == "public, max-age=5"
    # once that job is no longer pending, a new request makes a new job
    store.conn.execute("UPDATE jobs SET state = 'done' WHERE id = ?", (jobs[0]["id"],))
    store.enqueue_manifest(event_id, "events/party/manifest.json")
    pending = store.rows("SELECT * FROM jobs WHERE kind = 'manifest' AND state = 'pending'")
    assert len(pending) == 1 and pending[0]["version"] == 1
    # another event has its own pending manifest job
    other = store.ensure_event("other", "Other")
    store.enqueue_manifest(other, "events/other/manifest.json")
    assert store.scalar("SELECT COUNT(*) FROM jobs WHERE kind='manifest' AND state='pending'") == 2


def test_claim_publication_is_exclusive(tmp_path: Path, store: Store) -> None:
    photo_id = buffered_photo(store, "4" * 64)
    first = store.request_publication(photo_id, {}, "IMG")
    second = store.request_publication(photo_id, {}, "IMG")
    other = Store(store.path)  # a second worker on its own connection
    try:
        claimed = store.claim_publication(first)
        assert claimed is not None and claimed["state"] == "processing"
        assert claimed["claimed_at"] is not None
        assert other.claim_publication(first) is None
        assert store.claim_publication(first) is None
        # claiming "the oldest queued" skips the one already taken
        nxt = other.claim_publication()
        assert nxt is not None and nxt["id"] == second
        assert store.claim_publication() is None
        assert other.claim_publication() is None
    finally:
        other.close()


def test_release_stale_claims_requeues(store: Store) -> None:
    photo_id = buffered_photo(store, "5" * 64)
    pub_id = store.request_publication(photo_id, {}, "IMG")
    assert store.claim_publication(pub_id) is not None
    assert store.release_stale_claims(older_than_s=300) == 0
    assert store.release_stale_claims(older_than_s=-1) == 1
    assert store.publication(pub_id)["state"] == "queued"
    assert store.claim_publication(pub_id) is not None


def test_failed_transaction_rolls_back(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.conn.execute(
            "INSERT INTO photos (sha256, original_name, buffer_path, size, imported_at) "
            "VALUES ('x', 'x', 'x', 1, 'now')"
        )
        raise RuntimeError("boom")
    assert store.scalar("SELECT COUNT(*) FROM photos") == 0
    # and the connection is usable afterwards
    buffered_photo(store, "6" * 64)


def test_status_counts(store: Store) -> None:
    photo_id = buffered_photo(store, "7" * 64)
    store.request_publication(photo_id, {}, "IMG")
    failed = store.request_publication(photo_id, {}, "IMG")
    store.fail_publication(failed, "broken")
    store.enqueue("upload", store.current_event()["id"], "k", size=100)
    status = store.status()
    assert status["event"] == "party"
    assert status["buffer"] == 1
    assert status["publishing"] == 1
    assert status["failed"] == 1
    assert status["published"] == 0
    assert status["queue"] == {"jobs": 1, "bytes": 100}
    assert status["online"] is None
    assert store.publication(failed)["error"] == "broken"
