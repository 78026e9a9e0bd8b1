"""Rows in a real store, made through the Store's own methods: buffer photos (rows only, no files),
publications, outbox uploads."""

from __future__ import annotations

from typing import Any

from appliance.store import PublicationState, Store

# What the publish worker records of a rendered photo (mark_published's outputs).
RENDERED = {"width": 800, "height": 600, "thumb_width": 400, "thumb_height": 300, "color": "#123456",
            "placeholder": "0" * 27, "webp": True}


def buffered_photo(store: Store, sha: str, name: str = "IMG_7109.JPG", **fields: Any) -> int:
    """A new buffer photo recorded with ``Store.add_photo`` (no file behind it); returns its id."""
    fields.setdefault("size", 123)
    photo_id, created = store.add_photo(sha256=sha, original_name=name,
                                        buffer_path=f"{sha[:2]}/{sha}.jpg", **fields)
    assert created, f"a photo with sha256 {sha} is in the buffer already"
    return photo_id


def published_photo(store: Store, sha: str = "a" * 64) -> dict[str, Any]:
    """A new buffer photo published in the current event (rendered, not yet live): the publication."""
    pub_id = store.request_publication(buffered_photo(store, sha), {}, sha[:4])
    store.mark_published(pub_id, **RENDERED)
    pub = store.publication(pub_id)
    assert pub is not None
    return pub


def publication_row(store: Store, photo_id: int, state: str = PublicationState.QUEUED, *,
                    live: bool = False, error: str = "render failed") -> int:
    """A publication of the photo in the current event, brought to ``state`` the way the services
    do it (requested, claimed, then failed or rendered, then unpublished; ``live``: its objects
    confirmed in the bucket); returns its id."""
    pub_id = store.request_publication(photo_id, {}, f"IMG_{photo_id:04d}")
    if state != PublicationState.QUEUED:
        assert store.claim_publication(pub_id) is not None
    if state == PublicationState.FAILED:
        store.fail_publication(pub_id, error)
    elif state in (PublicationState.PUBLISHED, PublicationState.UNPUBLISHED):
        store.mark_published(pub_id, **RENDERED)
        if live:
            store.set_live(pub_id)
        if state == PublicationState.UNPUBLISHED:
            store.mark_unpublished(pub_id)
    else:
        assert state in (PublicationState.QUEUED, PublicationState.PROCESSING), state
    return pub_id


def upload_job(store: Store, pub: dict[str, Any], key: str, **fields: Any) -> int:
    """A pending upload of ``key`` for the publication ``pub`` (10 bytes); returns the job id."""
    fields.setdefault("size", 10)
    store.enqueue("upload", pub["event_id"], key, publication_id=pub["id"], path=f"/web/{key}",
                  **fields)
    return int(store.scalar("SELECT MAX(id) FROM jobs"))


def current_event_id(store: Store) -> int:
    event = store.current_event()
    assert event is not None
    return event["id"]
