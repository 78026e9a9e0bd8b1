"""The admin's read models in the store (:class:`~appliance.store.admin_views.AdminViews`) on a real
SQLite store: buffer pages and counts, rejections, the live feed, publication and outbox counts,
retries, the import overview, metrics, login failures and events. Every row is made through the
Store's own methods."""

from __future__ import annotations

import time

import pytest
from support.rows import buffered_photo, current_event_id, publication_row, upload_job

from appliance.store import ImportState, JobState, PublicationState, Store
from appliance.store.admin_views import BUFFER_FILTER_NAMES

QUEUED, PROCESSING, PUBLISHED, FAILED, UNPUBLISHED = (
    PublicationState.QUEUED, PublicationState.PROCESSING, PublicationState.PUBLISHED,
    PublicationState.FAILED, PublicationState.UNPUBLISHED)


def sha(n: int) -> str:
    return f"{n:064x}"


def photo_ids(rows: list[dict]) -> list[int]:
    return [r["id"] for r in rows]


def other_event_publication(store: Store, slug: str, photo_id: int, state: str) -> int:
    """A publication in the event ``slug`` (made current only while it is requested)."""
    home = current_event_id(store)
    store.set_setting("current_event_id", store.ensure_event(slug, slug.title()))
    try:
        return publication_row(store, photo_id, state)
    finally:
        store.set_setting("current_event_id", home)


# -- buffer ---------------------------------------------------------------------------------------
@pytest.fixture
def sorted_buffer(store: Store) -> dict[str, int]:
    """Five photos by sort key (capture time, else import time), with a tie between p2 and p4;
    newest first they are p5, p4, p2, p3, p1."""
    ids = {
        "p1": buffered_photo(store, sha(1), capture_time="2026-06-14T12:00:01"),
        "p2": buffered_photo(store, sha(2), capture_time="2026-06-14T12:00:03"),
        "p3": buffered_photo(store, sha(3), imported_at="2026-06-14T12:00:02Z"),  # no capture time
        "p4": buffered_photo(store, sha(4), capture_time="2026-06-14T12:00:03"),
        "p5": buffered_photo(store, sha(5), capture_time="2026-06-14T12:00:05"),
    }
    assert ids["p4"] > ids["p2"]
    return ids


def test_buffer_counts_per_filter_match_the_rows_each_filter_shows(store: Store) -> None:
    new = buffered_photo(store, sha(1))
    published = buffered_photo(store, sha(2))
    publication_row(store, published, PUBLISHED)
    queued = buffered_photo(store, sha(3))
    publication_row(store, queued, QUEUED)
    failed = buffered_photo(store, sha(4))
    publication_row(store, failed, FAILED)
    rejected = buffered_photo(store, sha(5))
    store.reject_photo(rejected, "2026-06-14T12:00:00Z")
    unpublished = buffered_photo(store, sha(6))
    publication_row(store, unpublished, UNPUBLISHED)
    twice = buffered_photo(store, sha(7))  # two live publications: counted once
    publication_row(store, twice, PUBLISHED)
    publication_row(store, twice, PROCESSING)

    counts = store.buffer_counts()
    assert counts == {"all": 7, "new": 1, "published": 3, "rejected": 1}
    assert counts == {f: len(store.buffer_rows(f, 100)) for f in BUFFER_FILTER_NAMES}
    assert photo_ids(store.buffer_rows("new", 100)) == [new]
    assert sorted(photo_ids(store.buffer_rows("published", 100))) == sorted([published, queued, twice])
    assert photo_ids(store.buffer_rows("rejected", 100)) == [rejected]


def test_buffer_counts_of_an_empty_buffer(store: Store) -> None:
    assert store.buffer_counts() == {"all": 0, "new": 0, "published": 0, "rejected": 0}


def test_buffer_rows_newest_first_by_capture_then_import_time(store: Store, sorted_buffer) -> None:
    p = sorted_buffer
    rows = store.buffer_rows("all", 10)
    assert photo_ids(rows) == [p["p5"], p["p4"], p["p2"], p["p3"], p["p1"]]
    by_id = {r["id"]: r for r in rows}
    assert by_id[p["p3"]]["sort_key"] == "2026-06-14T12:00:02Z"  # the import time stands in
    assert by_id[p["p5"]]["sort_key"] == by_id[p["p5"]]["capture_time"] == "2026-06-14T12:00:05"
    assert all(r["rejected_at"] is None for r in rows)
    assert set(rows[0]) == {"id", "original_name", "capture_time", "imported_at", "camera_make",
                            "camera_model", "width", "height", "sort_key", "rejected_at", "rating",
                            "protected", "picked_at", "source_kind", "source_name"}


def test_buffer_rows_pages_by_offset(store: Store, sorted_buffer) -> None:
    p = sorted_buffer
    assert photo_ids(store.buffer_rows("all", 2)) == [p["p5"], p["p4"]]
    assert photo_ids(store.buffer_rows("all", 2, offset=2)) == [p["p2"], p["p3"]]
    assert photo_ids(store.buffer_rows("all", 2, offset=4)) == [p["p1"]]
    assert store.buffer_rows("all", 2, offset=5) == []


def test_buffer_rows_pages_after_a_photo_through_ties(store: Store, sorted_buffer) -> None:
    p = sorted_buffer
    rows = {r["id"]: r for r in store.buffer_rows("all", 10)}

    def after(name: str) -> tuple[str, int]:
        return rows[p[name]]["sort_key"], p[name]

    # p4 and p2 share their capture time: the page after p4 still starts with p2
    assert photo_ids(store.buffer_rows("all", 10, after=after("p4"))) == [p["p2"], p["p3"], p["p1"]]
    assert photo_ids(store.buffer_rows("all", 2, after=after("p2"))) == [p["p3"], p["p1"]]
    assert store.buffer_rows("all", 10, after=after("p1")) == []
    # with a keyset the offset is not applied on top
    assert photo_ids(store.buffer_rows("all", 10, after=after("p4"), offset=2)) == [
        p["p2"], p["p3"], p["p1"]]


def test_buffer_rows_filter_and_keyset_together(store: Store, sorted_buffer) -> None:
    p = sorted_buffer
    store.reject_photo(p["p2"], "2026-06-14T13:00:00Z")
    store.reject_photo(p["p1"], "2026-06-14T13:05:00Z")
    publication_row(store, p["p5"], PUBLISHED)
    rejected = store.buffer_rows("rejected", 10)
    assert [(r["id"], r["rejected_at"]) for r in rejected] == [
        (p["p2"], "2026-06-14T13:00:00Z"), (p["p1"], "2026-06-14T13:05:00Z")]
    assert photo_ids(store.buffer_rows("new", 10)) == [p["p4"], p["p3"]]
    p4_key = store.buffer_rows("new", 1)[0]["sort_key"]
    assert photo_ids(store.buffer_rows("new", 10, after=(p4_key, p["p4"]))) == [p["p3"]]
    assert photo_ids(store.buffer_rows("published", 10)) == [p["p5"]]


def test_latest_publications_is_the_newest_of_each_photo(store: Store) -> None:
    twice = buffered_photo(store, sha(1))
    once = buffered_photo(store, sha(2))
    never = buffered_photo(store, sha(3))
    publication_row(store, twice, PUBLISHED)
    newest = publication_row(store, twice, FAILED, error="the buffer file is missing")
    only = publication_row(store, once, QUEUED)

    latest = store.latest_publications([twice, once, never])
    assert set(latest) == {twice, once}  # a photo never published has none
    assert latest[twice] == {"id": newest, "photo_id": twice, "name": "IMG_0001_002",
                             "state": "failed", "live_at": None,
                             "error": "the buffer file is missing"}
    assert (latest[once]["id"], latest[once]["state"]) == (only, "queued")
    assert set(store.latest_publications([once])) == {once}
    assert store.latest_publications([]) == {}


def test_latest_published_photo_id_follows_published_publications_only(store: Store) -> None:
    assert store.latest_published_photo_id() is None
    first, second = buffered_photo(store, sha(1)), buffered_photo(store, sha(2))
    publication_row(store, first, PUBLISHED)
    later = publication_row(store, second, PUBLISHED)
    assert store.latest_published_photo_id() == second
    publication_row(store, first, QUEUED)  # newer, but not published yet
    publication_row(store, first, FAILED)
    assert store.latest_published_photo_id() == second
    store.mark_unpublished(later)
    assert store.latest_published_photo_id() == first


# -- rejections -------------------------------------------------------------------------------------
def test_reject_and_unreject(store: Store) -> None:
    a, b = buffered_photo(store, sha(1)), buffered_photo(store, sha(2))
    assert store.rejection_count() == 0
    store.reject_photo(a, "2026-06-14T12:00:00Z")
    store.reject_photo(a, "2026-06-14T12:30:00Z")  # again: the first rejection stays
    assert store.rejection_count() == 1
    assert store.buffer_rows("rejected", 10)[0]["rejected_at"] == "2026-06-14T12:00:00Z"
    store.reject_photo(b, "2026-06-14T12:10:00Z")
    assert store.rejection_count() == 2
    store.unreject_photo(a)
    assert store.rejection_count() == 1
    assert photo_ids(store.buffer_rows("rejected", 10)) == [b]
    assert a in photo_ids(store.buffer_rows("new", 10))
    store.unreject_photo(a)  # not rejected: nothing happens
    assert store.rejection_count() == 1
    assert store.unreject_all() == 1
    assert store.rejection_count() == 0 and store.buffer_rows("rejected", 10) == []
    assert store.unreject_all() == 0


# -- live feed and publications ---------------------------------------------------------------------
def test_live_rows_with_upload_state_newest_first(store: Store) -> None:
    event_id = current_event_id(store)
    photo = buffered_photo(store, sha(1))
    queued = publication_row(store, photo, QUEUED)
    processing = publication_row(store, photo, PROCESSING)
    published = publication_row(store, photo, PUBLISHED)
    failed = publication_row(store, photo, FAILED)
    publication_row(store, photo, UNPUBLISHED)  # not in the feed
    other_event_publication(store, "other", photo, PUBLISHED)  # another event's: not in the feed
    pub = store.publication(published)
    now = time.time()
    old_try = upload_job(store, pub, "p/a.jpg")
    store.retry_job(old_try, "timeout", now, next_attempt_at=now + 60)
    new_try = upload_job(store, pub, "p/b.jpg")
    store.retry_job(new_try, "HTTP 503", now, next_attempt_at=now + 60)
    upload_job(store, pub, "p/c.jpg")  # pending, never tried
    done = upload_job(store, pub, "p/d.jpg")
    store.retry_job(done, "reset", now, next_attempt_at=now)
    assert store.finish_job(done, '"etag"', now)
    store.enqueue("delete", event_id, "p/old.jpg", publication_id=published)  # not an upload

    rows = store.live_rows(event_id, "p/b.jpg", 10, 0)
    assert photo_ids(rows) == [failed, published, processing, queued]
    state = {r["id"]: (r["state"], r["pending"], r["sync_error"], r["uploading"]) for r in rows}
    assert state == {
        failed: ("failed", 0, None, None),
        published: ("published", 3, "HTTP 503", 1),  # the newest error of a pending upload
        processing: ("processing", 0, None, None),
        queued: ("queued", 0, None, None),
    }
    assert store.live_rows(event_id, "p/d.jpg", 10, 0)[1]["uploading"] is None  # d is done
    assert store.live_rows(event_id, None, 10, 0)[1]["uploading"] is None
    assert photo_ids(store.live_rows(event_id, None, 2, 1)) == [published, processing]
    assert store.live_rows(event_id, None, 10, 4) == []
    assert rows[1]["name"] == pub["name"] and rows[1]["width"] == 800  # the publication's columns


def publications_in_two_events(store: Store, states: tuple[str, ...], other: str,
                               other_states: tuple[str, ...]) -> int:
    """One photo published in the current event in ``states`` and in event ``other`` in
    ``other_states``; the current event's id."""
    event_id = current_event_id(store)
    photo = buffered_photo(store, sha(1))
    for state in states:
        publication_row(store, photo, state)
    for state in other_states:
        other_event_publication(store, other, photo, state)
    return event_id


def test_publication_counts_of_one_event_or_all(store: Store) -> None:
    event_id = publications_in_two_events(
        store, (QUEUED, PUBLISHED, PUBLISHED, FAILED, UNPUBLISHED), "other", (PUBLISHED, PROCESSING))

    assert store.publication_counts(event_id) == {
        "queued": 1, "published": 2, "failed": 1, "unpublished": 1}
    assert store.publication_counts() == {
        "queued": 1, "processing": 1, "published": 3, "failed": 1, "unpublished": 1}
    assert store.publication_counts(store.event_by_slug("other")["id"]) == {  # type: ignore[index]
        "published": 1, "processing": 1}
    assert store.publication_counts(store.ensure_event("empty", "Empty")) == {}


def test_live_count_is_published_and_confirmed_in_the_bucket(store: Store) -> None:
    photo = buffered_photo(store, sha(1))
    assert store.live_count() == 0
    publication_row(store, photo, PUBLISHED, live=True)
    publication_row(store, photo, PUBLISHED)  # not confirmed yet
    publication_row(store, photo, UNPUBLISHED, live=True)  # was live, now unpublished
    other_event_publication(store, "other", photo, QUEUED)
    assert store.live_count() == 1
    confirmed = publication_row(store, photo, PUBLISHED, live=True)
    assert store.live_count() == 2
    store.set_live(confirmed, live=False)
    assert store.live_count() == 1


def test_retry_failed_publications_one_or_all(store: Store) -> None:
    photo = buffered_photo(store, sha(1))
    first = publication_row(store, photo, FAILED, error="broken")
    second = publication_row(store, photo, FAILED)
    queued = publication_row(store, photo, QUEUED)
    published = publication_row(store, photo, PUBLISHED)
    assert store.failed_count() == 2
    assert store.publication(first)["claimed_at"] is not None  # type: ignore[index]

    assert store.retry_failed_publication(queued) is False
    assert store.retry_failed_publication(published) is False
    assert store.publication(published)["state"] == "published"  # type: ignore[index]
    assert store.retry_failed_publication(first) is True
    again = store.publication(first)
    assert again is not None
    assert (again["state"], again["error"], again["claimed_at"]) == ("queued", None, None)
    assert store.failed_count() == 1
    assert store.retry_failed_publication(first) is False  # queued now, not failed
    assert store.retry_failed_publication(999) is False

    assert store.retry_failed_publications() == 1
    assert store.publication(second)["state"] == "queued"  # type: ignore[index]
    assert store.failed_count() == 0
    assert store.retry_failed_publications() == 0
    assert store.publications_waiting(current_event_id(store)) == 3


# -- outbox ----------------------------------------------------------------------------------------
def test_retrying_count_and_retry_jobs_now(store: Store) -> None:
    event_id = current_event_id(store)
    pub = store.publication(publication_row(store, buffered_photo(store, sha(1)), PUBLISHED))
    now = time.time()
    failing = upload_job(store, pub, "p/a.jpg")
    store.retry_job(failing, "timeout", now, next_attempt_at=now + 600)
    fresh = upload_job(store, pub, "p/b.jpg")
    done = upload_job(store, pub, "p/c.jpg")
    store.retry_job(done, "reset", now, next_attempt_at=now + 600)
    assert store.finish_job(done, None, now)
    refused = upload_job(store, pub, "p/d.jpg")
    store.retry_job(refused, "timeout", now, next_attempt_at=now + 600)
    store.refuse_job(refused, "safe mode")  # not pending: not retrying
    store.enqueue_manifest(event_id, "events/party/manifest.json")
    assert store.retrying_count() == 1
    assert [j["id"] for j in store.due_uploads(now, 10)] == [fresh]

    assert store.retry_jobs_now() == 3  # the pending ones: two uploads and the manifest
    assert store.job(failing)["next_attempt_at"] == 0  # type: ignore[index]
    assert store.job(done)["next_attempt_at"] == pytest.approx(now + 600)  # type: ignore[index]
    assert [j["id"] for j in store.due_uploads(now, 10)] == [failing, fresh]
    assert store.retrying_count() == 1  # due now, but its last attempt still failed
    store.finish_job(failing, None, now)
    assert store.retrying_count() == 0
    assert store.job(refused)["state"] == JobState.REFUSED  # type: ignore[index]


# -- imports -----------------------------------------------------------------------------------------
def test_import_overview_running_then_last(store: Store) -> None:
    assert store.import_overview() == {"running": None, "imported": None, "last": None}
    card = store.start_import("card A")
    buffered_photo(store, sha(1), import_id=card)
    buffered_photo(store, sha(2), import_id=card)
    upload = store.start_import("upload")
    buffered_photo(store, sha(3), import_id=upload)
    store.update_import(upload, state=ImportState.DONE)

    running = store.import_overview()
    assert running["running"]["id"] == card and running["running"]["source"] == "card A"
    assert (running["imported"], running["last"]) == (2, None)  # only that import's photos
    store.update_import(card, state=ImportState.DONE)
    last = store.import_overview()
    assert (last["running"], last["imported"]) == (None, None)
    assert last["last"]["id"] == upload  # the newest import, though it finished first
    interrupted = store.start_import("card B")
    store.update_import(interrupted, state=ImportState.INTERRUPTED)
    assert store.import_overview()["last"]["id"] == interrupted  # type: ignore[index]


# -- metrics -----------------------------------------------------------------------------------------
def test_metrics_counts_totals_and_what_happened_since(store: Store) -> None:
    photo = buffered_photo(store, sha(1), size=100, imported_at="2026-06-14T10:00:00Z")
    buffered_photo(store, sha(2), size=200, imported_at="2026-06-14T12:00:00Z")
    buffered_photo(store, sha(3), size=400, imported_at="2026-06-14T13:00:00Z")
    publication_row(store, photo, PUBLISHED)
    live = publication_row(store, photo, PUBLISHED, live=True)
    publication_row(store, photo, UNPUBLISHED)
    publication_row(store, photo, FAILED)
    publication_row(store, photo, QUEUED)
    pub = store.publication(live)
    now = time.time()
    first = upload_job(store, pub, "p/a.jpg", size=1000)
    assert store.finish_job(first, None, now)
    second = upload_job(store, pub, "p/b.jpg", size=2000)
    store.retry_job(second, "timeout", now, next_attempt_at=now)
    assert store.finish_job(second, None, now)
    pending = upload_job(store, pub, "p/c.jpg", size=4000)
    store.retry_job(pending, "timeout", now, next_attempt_at=now + 60)
    store.retry_job(pending, "timeout", now, next_attempt_at=now + 120)

    counts = store.metrics_counts(since="2026-06-14T12:00:00Z")
    assert counts == {
        "photos": 3, "photo_bytes": 700,
        "published": 3,  # ever published (the unpublished one was)
        "failed": 1,
        "uploads": 2, "upload_bytes": 3000,  # confirmed uploads only
        "upload_errors": 3,  # failed attempts of every job
        "publications_by_state": {"published": 2, "unpublished": 1, "failed": 1, "queued": 1},
        "live": 1,
        "retrying": 1,
        "imported_recent": 2, "imported_recent_bytes": 600,  # imported at 12:00 and after
        "uploaded_recent_bytes": 3000,  # done just now
    }
    later = store.metrics_counts(since="2999-01-01T00:00:00Z")
    assert (later["imported_recent"], later["imported_recent_bytes"], later["uploaded_recent_bytes"]) == (
        0, 0, 0)
    assert later["photos"] == 3 and later["uploads"] == 2  # totals do not depend on since


# -- login failures ------------------------------------------------------------------------------------
def test_login_failures_per_client_newest_first_and_forgotten(store: Store) -> None:
    store.record_login_failure("10.0.0.2", at=100.0, forget_before=0.0)
    store.record_login_failure("10.0.0.2", at=200.0, forget_before=0.0)
    store.record_login_failure("10.0.0.3", at=150.0, forget_before=0.0)
    assert store.login_failure_count() == 3
    assert store.recent_login_failures("10.0.0.2", since=0.0, limit=10) == [200.0, 100.0]
    assert store.recent_login_failures("10.0.0.2", since=100.0, limit=10) == [200.0]  # after only
    assert store.recent_login_failures("10.0.0.2", since=0.0, limit=1) == [200.0]
    assert store.recent_login_failures("10.0.0.3", since=0.0, limit=10) == [150.0]
    assert store.recent_login_failures("10.0.0.9", since=0.0, limit=10) == []

    store.record_login_failure("10.0.0.4", at=300.0, forget_before=160.0)  # drops 100 and 150
    assert store.login_failure_count() == 2
    assert store.recent_login_failures("10.0.0.2", since=0.0, limit=10) == [200.0]
    assert store.recent_login_failures("10.0.0.3", since=0.0, limit=10) == []

    store.clear_login_failures("10.0.0.2")
    assert store.login_failure_count() == 1
    assert store.recent_login_failures("10.0.0.2", since=0.0, limit=10) == []
    assert store.recent_login_failures("10.0.0.4", since=0.0, limit=10) == [300.0]


# -- events --------------------------------------------------------------------------------------------
def test_events_listing_newest_first_with_published_counts(store: Store) -> None:
    party = publications_in_two_events(
        store, (PUBLISHED, PUBLISHED, FAILED, UNPUBLISHED, QUEUED), "second", (PUBLISHED,))
    store.ensure_event("third", "Third", "Nothing yet")

    listing = store.events_listing()
    assert [(e["slug"], e["published"]) for e in listing] == [
        ("third", 0), ("second", 1), ("party", 2)]
    assert listing[2]["id"] == party and listing[2]["title"] == "Party"
    assert listing[0]["subtitle"] == "Nothing yet" and listing[0]["created_at"]
    assert set(listing[0]) == {"id", "slug", "title", "subtitle", "created_at", "published"}


def test_create_event_if_new(store: Store) -> None:
    party = current_event_id(store)
    gala = store.create_event_if_new("gala", "Gala", "Night", "2026-06-14T12:00:00Z",
                                     make_current=False)
    assert gala is not None and gala != party
    row = store.event(gala)
    assert row is not None
    assert (row["slug"], row["title"], row["subtitle"], row["created_at"]) == (
        "gala", "Gala", "Night", "2026-06-14T12:00:00Z")
    assert current_event_id(store) == party

    assert store.create_event_if_new("gala", "Other", "", "2026-06-15T00:00:00Z", make_current=True) is None
    assert store.event(gala)["title"] == "Gala"  # type: ignore[index]  # nothing changed
    assert current_event_id(store) == party
    assert store.create_event_if_new("party", "Party 2", "", "2026-06-15T00:00:00Z", False) is None
    assert len(store.events()) == 2

    ball = store.create_event_if_new("ball", "Ball", "", "2026-06-16T00:00:00Z", make_current=True)
    assert ball is not None and current_event_id(store) == ball
    assert [e["slug"] for e in store.events()] == ["party", "gala", "ball"]


def test_save_event_settings_in_one_transaction(store: Store) -> None:
    party = current_event_id(store)
    other = store.ensure_event("other", "Other", "Untouched")
    store.save_event_settings(party, "Anna & Ben", "21 November", {
        "watermark": {"enabled": True, "text": "© Jane"}, "credits": {"artist": "Jane Doe"}})
    saved = store.event(party)
    assert saved is not None and (saved["title"], saved["subtitle"]) == ("Anna & Ben", "21 November")
    assert store.get_setting("watermark") == {"enabled": True, "text": "© Jane"}
    assert store.get_setting("credits") == {"artist": "Jane Doe"}
    assert (store.event(other)["title"], store.event(other)["subtitle"]) == (  # type: ignore[index]
        "Other", "Untouched")

    # a setting that cannot be stored: the title and the settings before it are rolled back
    with pytest.raises(TypeError):
        store.save_event_settings(party, "Broken", "", {"fine": 1, "bad": object()})
    assert store.event(party)["title"] == "Anna & Ben"  # type: ignore[index]
    assert store.get_setting("fine") is None
