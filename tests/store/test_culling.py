"""Culling in the store (:mod:`appliance.store.culling`, :mod:`appliance.store.batches`) on a real
SQLite store: filters, sorts and their indexes, ratings and flags, batches in one transaction,
soft delete with undo and purge, deleted photos invisible to every read."""

from __future__ import annotations

import time

import pytest
from support.rows import buffered_photo, publication_row

from appliance.store import PublicationState, Store
from appliance.store.batches import ALREADY, NO_PHOTO, UNPUBLISH_FIRST, UndoRefused
from appliance.store.culling import BufferQuery


def sha(n: int) -> str:
    return f"{n:064x}"


def ids(rows: list[dict]) -> list[int]:
    return [r["id"] for r in rows]


def imported(store: Store, label: str, *names: str) -> list[int]:
    """Photos recorded by an import from the source ``label`` (e.g. ``ftp camera-a``)."""
    import_id = store.start_import(label)
    found = []
    for name in names:
        n = store.scalar("SELECT COUNT(*) FROM photos") + 1
        found.append(buffered_photo(store, sha(1000 + n), name, import_id=import_id,
                                    capture_time=f"2026-06-14T12:00:{n:02d}",
                                    imported_at=f"2026-06-15T09:00:{60 - n:02d}Z"))
    return found


@pytest.fixture
def culled(store: Store) -> dict[str, int]:
    """Five photos from a card, an FTP camera and an upload, rated and flagged differently."""
    a, b = imported(store, "card EOS_DIGITAL (/dev/sda1)", "A.JPG", "B.JPG")
    c, d = imported(store, "ftp camera-a", "C.JPG", "D.JPG")
    (e,) = imported(store, "upload E.JPG", "E.JPG")
    with store.transaction():
        store.rate_photos([a, c], 4)
        store.rate_photos([b], 2)
        store.flag_photos([a, b], "pick")
        store.flag_photos([d], "reject")
    publication_row(store, c, PublicationState.PUBLISHED)
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def test_filters_compose_and_count_what_they_show(store: Store, culled) -> None:
    p = culled
    cases = {
        BufferQuery(): [p["e"], p["d"], p["c"], p["b"], p["a"]],
        BufferQuery(rating=3): [p["c"], p["a"]],
        BufferQuery(rating=2, flag="picked"): [p["b"], p["a"]],
        BufferQuery(flag="rejected"): [p["d"]],
        BufferQuery(flag="unflagged"): [p["e"], p["c"]],
        BufferQuery(state="published"): [p["c"]],
        BufferQuery(state="unpublished", rating=1): [p["b"], p["a"]],
        BufferQuery(source_kind="card"): [p["b"], p["a"]],
        BufferQuery(source_kind="card", source_name="EOS_DIGITAL"): [p["b"], p["a"]],
        BufferQuery(source_kind="ftp", source_name="camera-a"): [p["d"], p["c"]],
        BufferQuery(source_kind="ftp", source_name="camera-b"): [],
        BufferQuery(source_kind="upload"): [p["e"]],
        BufferQuery(from_="2026-06-14T12:00:02", to="2026-06-14T12:00:04"): [p["c"], p["b"]],
        BufferQuery(filter_="new", flag="unflagged"): [p["e"]],
        BufferQuery(sort="import"): [p["a"], p["b"], p["c"], p["d"], p["e"]],
    }
    for query, expected in cases.items():
        assert ids(store.query_rows(query, 100)) == expected, query
        assert store.query_count(query) == len(expected), query
        assert store.query_ids(query, 100) == expected, query
    assert store.query_ids(BufferQuery(), 2) == [p["e"], p["d"]]
    row = {r["id"]: r for r in store.query_rows(BufferQuery(), 10)}[p["c"]]
    assert (row["rating"], row["source_kind"], row["source_name"]) == (4, "ftp", "camera-a")
    assert {(s["kind"], s["name"], s["count"]) for s in store.buffer_sources()} == {
        ("card", "EOS_DIGITAL", 2), ("ftp", "camera-a", 2), ("upload", "E.JPG", 1)}


def test_keyset_pages_follow_the_chosen_sort(store: Store, culled) -> None:
    for sort in ("capture", "import"):
        query = BufferQuery(sort=sort)
        everything = ids(store.query_rows(query, 10))
        first = store.query_rows(query, 2)
        rest = store.query_rows(query, 10, after=(first[-1]["sort_key"], first[-1]["id"]))
        assert ids(first) + ids(rest) == everything


@pytest.mark.parametrize("query", [BufferQuery(), BufferQuery(rating=3), BufferQuery(flag="picked"),
                                   BufferQuery(source_kind="ftp", source_name="x", state="unpublished"),
                                   BufferQuery(filter_="new", from_="2026-01-01T00:00:00")])
@pytest.mark.parametrize("sort, index", [("capture", "photos_by_sort"), ("import", "photos_by_import_time")])
def test_every_filter_walks_a_sort_index(store: Store, query: BufferQuery, sort: str, index: str) -> None:
    """No temporary sort: the page query reads the sort index in order, whatever the filters."""
    query = BufferQuery(**{**query.__dict__, "sort": sort})
    terms, params = query.where()
    plan = store.conn.execute(
        f"EXPLAIN QUERY PLAN SELECT photos.id FROM photos WHERE {' AND '.join(terms)} "
        f"ORDER BY {query.sort_expr} DESC, photos.id DESC LIMIT 60", params).fetchall()
    text = " | ".join(row[-1] for row in plan)
    assert f"USING INDEX {index}" in text and "TEMP B-TREE" not in text, text


def test_one_flag_clears_the_other(store: Store) -> None:
    photo = buffered_photo(store, sha(1))
    with store.transaction():
        assert store.flag_photos([photo, 999], "reject") == 1
    assert store.query_ids(BufferQuery(flag="rejected"), 10) == [photo]
    with store.transaction():
        store.flag_photos([photo], "pick")
    assert store.query_ids(BufferQuery(flag="rejected"), 10) == []
    assert store.query_ids(BufferQuery(flag="picked"), 10) == [photo]
    store.reject_photo(photo, "2026-06-14T12:00:00Z")  # the old single reject clears a pick too
    assert store.query_ids(BufferQuery(flag="picked"), 10) == []
    with store.transaction():
        store.flag_photos([photo], "none")
    assert store.query_ids(BufferQuery(flag="unflagged"), 10) == [photo]


def test_a_publish_batch_is_one_transaction_with_sequential_names(store: Store) -> None:
    photos = [buffered_photo(store, sha(i), "IMG_0001.JPG") for i in range(1, 101)]
    busy = buffered_photo(store, sha(200))
    publication_row(store, busy, PublicationState.PROCESSING)
    store.reject_photo(photos[0], "2026-06-14T12:00:00Z")
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    wanted = [{"id": p, "recipe": {}, "base": "IMG_0001"} for p in [*photos, busy, 4242]]
    batch_id, results = store.publish_batch(wanted, {9977: "its draft edit is not valid"}, None,
                                            [*photos, busy, 4242, 9977])
    store.conn.set_trace_callback(None)
    assert [s for s in statements if s.split()[0] in ("BEGIN", "COMMIT", "ROLLBACK")] == [
        "BEGIN IMMEDIATE", "COMMIT"]
    assert [r["id"] for r in results] == [*photos, busy, 4242, 9977]
    assert all(r["ok"] for r in results[:100])
    assert results[100:] == [{"id": busy, "ok": False, "error": ALREADY},
                             {"id": 4242, "ok": False, "error": NO_PHOTO},
                             {"id": 9977, "ok": False, "error": "its draft edit is not valid"}]
    names = [store.publication(r["publication_id"])["name"] for r in results[:100]]
    assert names == ["IMG_0001"] + [f"IMG_0001_{n:03d}" for n in range(2, 101)]
    assert store.rejection_count() == 0  # publishing clears the rejection
    assert store.batch(batch_id)["total"] == 103
    assert len(store.batch_items(batch_id)) == 103


def test_delete_hides_undo_restores_and_purge_marks(store: Store) -> None:
    kept, gone, live = (buffered_photo(store, sha(i), capture_time=f"2026-06-14T12:00:0{i}")
                        for i in (1, 2, 3))
    publication_row(store, live, PublicationState.PUBLISHED)
    batch_id, results = store.batch_delete([gone, live, 555])
    assert results == [{"id": gone, "ok": True}, {"id": live, "ok": False, "error": UNPUBLISH_FIRST},
                       {"id": 555, "ok": False, "error": NO_PHOTO}]
    assert store.photo(gone) is None and store.latest_photo()["id"] == live
    assert store.buffer_counts()["all"] == 2 and store.status()["buffer"] == 2
    assert ids(store.buffer_rows("all", 10)) == [live, kept]
    assert gone not in store.visible_ids([gone, kept])
    assert store.undo_delete(batch_id, window_s=10) == 1
    assert store.photo(gone) is not None
    with pytest.raises(UndoRefused, match="undone already"):
        store.undo_delete(batch_id, window_s=10)
    late, _ = store.batch_delete([gone])
    time.sleep(0.05)
    with pytest.raises(UndoRefused, match="too late"):
        store.undo_delete(late, window_s=0.01)
    rated, _ = store.batch_update("rate", [kept], 3)
    with pytest.raises(UndoRefused, match="only a delete"):
        store.undo_delete(rated, window_s=10)
    with pytest.raises(LookupError):
        store.undo_delete(9999, window_s=10)
    assert store.deleted_to_purge(time.time() - 60) == []  # deleted less than a minute ago
    due = store.deleted_to_purge(time.time())
    assert [r["id"] for r in due] == [gone] and not due[0]["shared"]
    with store.transaction():
        store.mark_purged([gone])
    assert store.deleted_to_purge(time.time()) == []


def test_deleted_photos_are_never_auto_published(store: Store) -> None:
    event = store.current_event()["id"]
    store.set_autopublish_rule(event, "card", "", "all", 0)
    first, second = buffered_photo(store, sha(1)), buffered_photo(store, sha(2))
    store.batch_delete([first])
    assert [r["id"] for r in store.autopublish_unscanned()] == [second]
