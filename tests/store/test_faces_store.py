"""The store's faces (appliance/store/faces.py): the derived indexing queue, scans of a rendering,
stale faces dropped, the face index's versions and its one pending upload, forgetting it."""

from __future__ import annotations

import pytest

from appliance.store import Store

KEY = "events/party/faces.bin"


def published(store: Store, n: int, event_id: int | None = None) -> list[int]:
    """``n`` publications marked published (rendered), oldest first."""
    ids = []
    for i in range(n):
        photo, _ = store.add_photo(sha256=f"{len(ids)}{i}".ljust(64, "f") + str(event_id),
                                   original_name=f"IMG_{i}.JPG", buffer_path=f"x/{i}.jpg", size=1)
        pub = store.request_publication(photo, {}, f"IMG_{i}", event_id=event_id)
        store.mark_published(pub, width=10, height=10, thumb_width=5, thumb_height=5, color="#000",
                             placeholder=None, webp=False)
        ids.append(pub)
    return ids


def enable(store: Store, event_id: int, on: bool = True) -> None:
    store.set_setting(f"faces.{event_id}", {"enabled": on, "consent": "ok?"})


def face(x: float = 0.1) -> dict:
    return {"x": x, "y": 0.2, "w": 0.1, "h": 0.1, "score": 0.9, "descriptor": b"\0" * 512}


@pytest.fixture
def event_id(store: Store) -> int:
    return store.current_event()["id"]


def test_queue_is_published_photos_of_enabled_events_oldest_first(store: Store, event_id: int) -> None:
    other = store.ensure_event("other", "Other")
    mine = published(store, 2)
    published(store, 1, event_id=other)  # face search off there
    assert store.next_face_job() is None and store.face_jobs_left() == 0
    enable(store, event_id)
    assert store.next_face_job()["id"] == mine[0] and store.face_jobs_left(event_id) == 2
    pub = store.publication(mine[0])
    store.record_faces(mine[0], pub["published_at"], [face(), face(0.5)])
    assert store.next_face_job()["id"] == mine[1]
    store.record_faces(mine[1], store.publication(mine[1])["published_at"], [], error="cannot read")
    assert store.next_face_job() is None and store.face_jobs_left() == 0  # an error is not retried
    assert store.face_counts(event_id) == {"scanned": 2, "faces": 2, "failed": 1}
    assert not store.publishing_busy()
    store.conn.execute("UPDATE publications SET state = 'processing' WHERE id = ?", (mine[0],))
    assert not store.publishing_busy()  # one rendering: the indexer may use the other core
    store.conn.execute("UPDATE publications SET state = 'queued' WHERE id = ?", (mine[0],))
    assert store.publishing_busy()  # the publisher is behind: indexing waits
    assert [j["id"] for j in store.next_face_jobs(5)] == []  # (a queued photo is no job either)


def test_the_face_worker_gets_several_jobs_oldest_first(store: Store, event_id: int) -> None:
    enable(store, event_id)
    mine = published(store, 3)
    assert [j["id"] for j in store.next_face_jobs(2)] == mine[:2]
    assert [j["id"] for j in store.next_face_jobs(5)] == mine


def test_a_new_rendering_is_scanned_again_and_replaces_the_faces(store: Store, event_id: int) -> None:
    enable(store, event_id)
    [pub] = published(store, 1)
    store.record_faces(pub, store.publication(pub)["published_at"], [face(), face()])
    store.conn.execute("UPDATE publications SET published_at = '2099-01-01T00:00:00Z' WHERE id = ?", (pub,))
    assert store.next_face_job()["id"] == pub
    store.record_faces(pub, "2099-01-01T00:00:00Z", [face(0.7)])
    assert [r["x"] for r in store.event_faces(event_id, live_only=False)] == [0.7]


def test_stale_faces_go_and_only_live_photos_are_indexed(store: Store, event_id: int) -> None:
    enable(store, event_id)
    a, b = published(store, 2)
    for pub in (a, b):
        store.record_faces(pub, store.publication(pub)["published_at"], [face()])
    assert store.event_faces(event_id) == [] and store.face_signature(event_id) == (0, 0)
    store.set_live(a)
    assert [r["name"] for r in store.event_faces(event_id)] == ["IMG_0"]
    before = store.face_signature(event_id)
    store.set_live(b)
    assert store.face_signature(event_id) != before
    store.mark_unpublished(a)
    assert store.drop_stale_faces() == 1 and store.drop_stale_faces() == 0
    assert [r["name"] for r in store.event_faces(event_id)] == ["IMG_1"]
    enable(store, event_id, on=False)  # switched off: every descriptor of the event goes
    assert store.drop_stale_faces() == 1
    assert store.scalar("SELECT COUNT(*) FROM faces") == store.scalar("SELECT COUNT(*) FROM face_scans") == 0


def test_index_versions_and_one_pending_upload(store: Store, event_id: int) -> None:
    assert store.face_index_written(event_id, "a" * 64, KEY, "/w/faces.bin", 100) == 1
    assert store.face_index_written(event_id, "b" * 64, KEY, "/w/faces.bin", 120) == 2
    [job] = store.rows("SELECT * FROM jobs WHERE key = ?", (KEY,))
    assert (job["state"], job["version"], job["size"], job["publication_id"]) == ("pending", 2, 120, None)
    assert (job["cache_control"], job["content_type"]) == ("public, max-age=2", "application/octet-stream")
    assert store.face_index_confirmed(event_id, KEY) is False  # its upload is pending
    store.finish_job(job["id"], "etag", 0.0, version=2)
    assert store.face_index_confirmed(event_id, KEY) is True
    assert store.face_index_confirmed(event_id, KEY) is False  # said once
    assert store.face_index(event_id)["live_version"] == 2
    store.face_index_written(event_id, "c" * 64, KEY, "/w/faces.bin", 90)
    assert store.scalar("SELECT COUNT(*) FROM jobs WHERE key = ? AND state = 'pending'", (KEY,)) == 1


def test_forgetting_cancels_the_upload_and_deletes_what_may_have_gone_up(store: Store, event_id: int) -> None:
    assert store.forget_face_index(event_id, KEY) is False  # never written: nothing to delete
    assert store.rows("SELECT * FROM jobs") == []
    store.face_index_written(event_id, "a" * 64, KEY, "/w/faces.bin", 100)
    # its upload may be in flight when it is cancelled: the bucket's copy is deleted all the same
    assert store.forget_face_index(event_id, KEY) is True
    assert store.rows("SELECT kind, state FROM jobs WHERE key = ? ORDER BY id", (KEY,)) == [
        {"kind": "upload", "state": "cancelled"}, {"kind": "delete", "state": "pending"}]
    assert store.face_index(event_id) is None
    store.face_index_written(event_id, "b" * 64, KEY, "/w/faces.bin", 100)
    [job] = store.rows("SELECT * FROM jobs WHERE key = ? AND kind = 'upload' AND state = 'pending'", (KEY,))
    assert store.face_index_deletable(event_id, KEY) is False  # face search keeps it again
    store.finish_job(job["id"], "etag", 0.0)
    assert store.forget_face_index(event_id, KEY) is True
    assert store.forget_face_index(event_id, KEY) is True  # twice: still one pending delete
    [delete] = store.rows("SELECT * FROM jobs WHERE kind = 'delete' AND state = 'pending'")
    assert (delete["key"], delete["publication_id"]) == (KEY, None)
    assert store.face_index_deletable(event_id, KEY) is True
    assert store.face_index_deletable(event_id, "events/party/photos/x.jpg") is False
    assert store.face_index_deletable(event_id, "events/other/faces.bin") is False


def test_signature_changes_when_a_face_is_replaced_by_another(store: Store, event_id: int) -> None:
    """Unpublish the newest photo and scan a new one with as many faces: ids are not reused."""
    enable(store, event_id)
    a, b = published(store, 2)
    for pub in (a, b):
        store.record_faces(pub, store.publication(pub)["published_at"], [face()])
        store.set_live(pub)
    before = store.face_signature(event_id)
    store.mark_unpublished(b)
    store.drop_stale_faces()
    [c] = published(store, 1)
    store.record_faces(c, store.publication(c)["published_at"], [face()])
    store.set_live(c)
    assert store.face_signature(event_id)[0] == before[0] and store.face_signature(event_id) != before
