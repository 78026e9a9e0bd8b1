"""The store's typed methods for imports, cards, RAW files, publications and the outbox (real SQLite)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from support.rows import buffered_photo, current_event_id, published_photo, upload_job

from appliance.store import (
    CardState,
    ImportState,
    JobState,
    PublicationState,
    Store,
    read_setting,
)
from appliance.store.imports import import_owner_alive, pair_key, text


# -- rows, settings, events --------------------------------------------------------------------
def test_rows_are_dicts_by_column_name(store: Store) -> None:
    rows = store.rows("SELECT 1 AS one, 'two' AS two UNION ALL SELECT 3, 'four'")
    assert rows == [{"one": 1, "two": "two"}, {"one": 3, "two": "four"}]
    assert store.row("SELECT * FROM photos") is None
    assert store.rows("SELECT * FROM photos") == []
    # the connection itself keeps tuples (scalar, fetchone()[0])
    assert store.conn.execute("SELECT 5").fetchone() == (5,)


def test_read_setting_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "state" / "appliance.db"
    assert read_setting(path, "k") is None
    assert not path.exists()
    store = Store(path)
    store.set_setting("k", {"ok": False, "errors": ["x"]})
    store.close()
    assert read_setting(path, "k") == {"ok": False, "errors": ["x"]}
    assert read_setting(path, "other") is None
    path.write_bytes(b"not a database")
    assert read_setting(path, "k") is None


def test_events_and_event_by_slug(store: Store) -> None:
    store.ensure_event("second", "Second")
    assert [e["slug"] for e in store.events()] == ["party", "second"]
    second = store.event_by_slug("second")
    assert second is not None and second["title"] == "Second"
    assert store.event_by_slug("missing") is None
    assert store.current_event()["slug"] == "party"  # type: ignore[index]


def test_data_version_changes_on_another_connections_commit(store: Store) -> None:
    seen = store.data_version()
    assert store.data_version() == seen
    other = Store(store.path)
    try:
        other.set_setting("x", 1)
    finally:
        other.close()
    assert store.data_version() != seen


# -- states ------------------------------------------------------------------------------------
def test_states_are_the_stored_strings(store: Store) -> None:
    pub = published_photo(store)
    assert pub["state"] == PublicationState.PUBLISHED == "published"
    assert type(pub["state"]) is str  # rows hold plain strings
    assert {PublicationState.PUBLISHED: 1}.get(pub["state"]) == 1
    assert json.dumps({"s": ImportState.DONE}) == '{"s": "done"}'
    assert [s.value for s in JobState] == ["pending", "done", "refused", "cancelled"]
    assert [s.value for s in CardState] == ["mounting", "importing", "safe_to_remove", "interrupted",
                                            "error", "removed"]


# -- imports -----------------------------------------------------------------------------------
def test_import_rows(store: Store) -> None:
    first = store.start_import("card A")
    second = store.start_import("card B")
    running = store.running_import_rows()
    assert [r["id"] for r in running] == [second, first]
    assert running[0]["pid"] == os.getpid() and running[0]["state"] == ImportState.RUNNING
    assert import_owner_alive(running[0])  # this process
    store.update_import(first, state=ImportState.DONE, report={"imported": 3})
    record = store.import_record(first)
    assert record is not None and record["state"] == "done"
    assert json.loads(record["report"]) == {"imported": 3}
    assert [r["id"] for r in store.running_import_rows()] == [second]
    assert [r["id"] for r in store.recent_import_rows(1)] == [second]
    assert store.import_record(999) is None


def test_close_dead_imports_interrupts_only_dead_owners(store: Store) -> None:
    alive = store.start_import("alive")
    dead = store.start_import("dead")
    store.update_import(dead, pid=None, current_file="x.jpg")
    assert store.close_dead_imports() == 1
    assert store.import_record(alive)["state"] == ImportState.RUNNING  # type: ignore[index]
    closed = store.import_record(dead)
    assert closed is not None
    assert closed["state"] == ImportState.INTERRUPTED and closed["finished_at"]
    assert closed["current_file"] is None


def test_cards(store: Store) -> None:
    card = store.card_seen("1234-ABCD", "EOS", "vfat", "/dev/sda1")
    assert store.card_seen("1234-ABCD", "EOS 2", "exfat", "/dev/sdb1") == card  # same card again
    imp = store.start_import("card", card_id=card)
    store.set_card(card, state=CardState.IMPORTING, import_id=imp, mount_path="/mnt/x")
    [row] = store.recent_cards()
    assert (row["label"], row["device"], row["state"], row["import_state"]) == (
        "EOS 2", "/dev/sdb1", "importing", "running")
    store.card_removed("/dev/sdb1")  # not finished: keeps its state
    assert store.recent_cards()[0]["state"] == CardState.IMPORTING
    other = store.card_seen("5678", "", "vfat", "/dev/sdc1")
    assert store.close_dead_cards() == 2  # mounting and importing
    rows = {r["id"]: r for r in store.recent_cards()}
    assert rows[card]["state"] == rows[other]["state"] == CardState.INTERRUPTED
    assert rows[card]["mount_path"] is None and "importer stopped" in rows[card]["error"]
    store.set_card(other, state=CardState.SAFE_TO_REMOVE)
    store.card_removed("/dev/sdc1")
    assert [r["id"] for r in store.recent_cards()] == [card]  # removed cards are not listed
    assert len(store.recent_cards(limit=0)) == 0


def test_record_files_pair_raws_with_their_jpeg(store: Store) -> None:
    key = pair_key(Path("/card/DCIM/IMG_0001.CR3"))
    assert key == pair_key(Path("/card/DCIM/img_0001.jpg"))
    assert not store.size_known(4242)
    with store.transaction():
        assert store.record_file("raw_files", sha256="r" * 64, original_name="IMG_0001.CR3",
                                 archive_path="r.cr3", size=4242, pair_key=key)
        assert not store.record_file("raw_files", sha256="r" * 64, original_name="again",
                                     archive_path="r2.cr3", size=4242, pair_key=key)
    assert store.size_known(4242)
    assert store.pair_raw_files(key) == 0  # no JPEG yet
    with store.transaction():
        assert store.record_file("photos", sha256="j" * 64, original_name="IMG_0001.JPG",
                                 buffer_path="j.jpg", size=100, pair_key=key)
    assert store.pair_raw_files(key) == 1
    assert store.pair_raw_files(key) == 0  # already paired
    raw = store.raw_by_sha("r" * 64)
    assert raw is not None and raw["photo_id"] == store.photo_id_by_sha("j" * 64) is not None
    assert store.raw_by_sha("x" * 64) is None and store.photo_id_by_sha("x" * 64) is None
    with pytest.raises(AssertionError):
        store.record_file("events", sha256="z")


def test_text_replaces_undecodable_bytes() -> None:
    assert text(os.fsdecode(b"caf\xe9.jpg")) == "caf\ufffd.jpg"
    assert text(Path("plain.jpg")) == "plain.jpg"


# -- publications ------------------------------------------------------------------------------
def test_publication_outcomes(store: Store) -> None:
    event_id = current_event_id(store)
    pub = published_photo(store)
    assert (pub["state"], pub["width"], pub["thumb_height"], pub["webp"], pub["error"]) == (
        "published", 800, 300, 1, None)
    assert pub["published_at"] and pub["live_at"] is None
    store.set_live(pub["id"])
    assert store.publication(pub["id"])["live_at"]  # type: ignore[index]
    assert [p["id"] for p in store.published(event_id, live_only=True)] == [pub["id"]]
    store.set_live(pub["id"], live=False)
    assert store.published(event_id, live_only=True) == []
    store.mark_unpublished(pub["id"])
    gone = store.publication(pub["id"])
    assert gone is not None and gone["state"] == PublicationState.UNPUBLISHED and gone["unpublished_at"]


def test_publications_waiting_counts_queued_and_processing(store: Store) -> None:
    event_id = current_event_id(store)
    assert store.publications_waiting(event_id) == 0
    first = store.request_publication(buffered_photo(store, "a" * 64), {}, "a")
    store.request_publication(buffered_photo(store, "b" * 64), {}, "b")
    assert store.publications_waiting(event_id) == 2
    assert store.claim_publication(first) is not None
    assert store.publications_waiting(event_id) == 2  # processing still waits
    store.fail_publication(first, "broken")
    assert store.publications_waiting(event_id) == 1
    assert store.publication(first)["state"] == PublicationState.FAILED  # type: ignore[index]


# -- outbox ------------------------------------------------------------------------------------
def test_due_jobs_in_order_and_deletes_wait_for_the_manifest(store: Store) -> None:
    pub = published_photo(store)
    event_id = pub["event_id"]
    up1, up2 = upload_job(store, pub, "p/a.jpg"), upload_job(store, pub, "p/b.jpg")
    store.enqueue("delete", event_id, "p/old.jpg", publication_id=pub["id"])
    now = time.time()
    assert [j["id"] for j in store.due_uploads(now, 10)] == [up1, up2]
    assert [j["id"] for j in store.due_uploads(now, 1)] == [up1]
    assert [j["key"] for j in store.due_deletes(now, 10)] == ["p/old.jpg"]
    store.enqueue_manifest(event_id, "p/manifest.json")
    assert store.due_deletes(now, 10) == []  # the manifest without the photo goes first
    [manifest] = store.due_manifests(now)
    assert store.pending_manifest(event_id)["id"] == manifest["id"]  # type: ignore[index]
    assert [m["id"] for m in store.pending_manifests()] == [manifest["id"]]
    assert store.job_version(manifest["id"]) == 1
    store.retry_job(up1, "timeout", now, next_attempt_at=now + 60)
    assert [j["id"] for j in store.due_uploads(now, 10)] == [up2]
    assert store.next_attempt_after(now) == pytest.approx(now + 60)
    assert store.next_attempt_after(now + 61) is None
    job = store.job(up1)
    assert job is not None and (job["attempts"], job["last_error"]) == (1, "timeout")
    store.retry_all_now()
    assert [j["id"] for j in store.due_uploads(now, 10)] == [up1, up2]
    assert store.pending_jobs_of(event_id) == 4
    assert store.job(999) is None and store.job_version(999) is None


def test_finishing_jobs_and_going_live(store: Store) -> None:
    pub = published_photo(store)
    event_id = pub["event_id"]
    up = upload_job(store, pub, "p/a.jpg")
    assert store.pending_uploads_of(pub["id"]) == 1
    assert store.event_busy(event_id)
    assert store.finish_job(up, '"etag"', time.time())
    assert not store.finish_job(up, '"etag"', time.time())  # no longer pending
    done = store.job(up)
    assert done is not None and (done["state"], done["etag"]) == (JobState.DONE, '"etag"')
    assert store.pending_uploads_of(pub["id"]) == 0
    assert not store.event_busy(event_id)
    store.request_publication(buffered_photo(store, "q" * 64), {}, "q")
    assert store.event_busy(event_id)  # a queued publication keeps the manifest waiting


def test_finish_manifest_job_only_when_no_newer_request(store: Store) -> None:
    event_id = current_event_id(store)
    store.enqueue_manifest(event_id, "p/manifest.json")
    job = store.pending_manifest(event_id)
    assert job is not None
    store.enqueue_manifest(event_id, "p/manifest.json")  # a newer one asked for meanwhile
    now = time.time()
    store.finish_manifest_job(job["id"], job["version"], '"e1"', now)
    again = store.job(job["id"])
    assert again is not None and again["state"] == JobState.PENDING and again["version"] == 2
    assert store.last_manifest_attempts() == {event_id: pytest.approx(now)}
    store.finish_manifest_job(job["id"], 2, '"e2"', now + 1)
    assert store.job(job["id"])["state"] == JobState.DONE  # type: ignore[index]
    assert store.sync_state()["manifest_puts"] == 2


def test_safe_mode_lookups_refuse_and_cancel(store: Store) -> None:
    pub = published_photo(store)
    event_id = pub["event_id"]
    up = upload_job(store, pub, "p/a.jpg", content_type="image/jpeg")
    upload_job(store, pub, "p/b.jpg")
    assert store.uploaded_for(pub["id"], "p/a.jpg")
    assert not store.uploaded_for(pub["id"], "p/other.jpg")
    owner = store.upload_owner("p/a.jpg")
    assert owner is not None and owner["id"] == pub["id"]
    assert store.upload_owner("p/other.jpg") is None
    assert store.job_pending("upload", "p/a.jpg") and not store.job_pending("delete", "p/a.jpg")
    uploads = store.published_uploads(event_id)
    assert [(u["key"], u["content_type"], u["live_at"]) for u in uploads] == [
        ("p/a.jpg", "image/jpeg", None), ("p/b.jpg", None, None)]
    store.finish_job(up, None, time.time())
    assert store.cancel_pending_uploads(pub["id"]) == 1  # the done one stays done
    assert not store.job_pending("upload", "p/b.jpg")
    assert len(store.published_uploads(event_id)) == 1  # cancelled uploads are not expected
    store.enqueue("delete", event_id, "p/x.jpg", publication_id=pub["id"])
    delete_id = int(store.scalar("SELECT MAX(id) FROM jobs"))
    store.refuse_job(delete_id, "safe mode: no")
    refused = store.job(delete_id)
    assert refused is not None
    assert (refused["state"], refused["last_error"]) == (JobState.REFUSED, "safe mode: no")
    assert refused["done_at"]


def test_set_sync_state_in_flight(store: Store) -> None:
    store.set_sync_state(in_flight=2, current_key="p/a.jpg")
    state = store.sync_state()
    assert (state["in_flight"], state["current_key"]) == (2, "p/a.jpg") and state["updated_at"]
    status = store.status()
    assert (status["in_flight"], status["current_upload"]) == (2, "p/a.jpg")

