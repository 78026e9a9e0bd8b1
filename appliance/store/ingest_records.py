"""Transitional: the former ingest record functions, now methods of Store (to be removed)."""

from __future__ import annotations

from typing import Any

from .connection import utcnow
from .database import Store
from .imports import import_owner_alive, pair_key, text
from .states import CardState, ImportState

MOUNTING, IMPORTING, SAFE_TO_REMOVE, INTERRUPTED, ERROR, REMOVED = (
    CardState.MOUNTING, CardState.IMPORTING, CardState.SAFE_TO_REMOVE, CardState.INTERRUPTED,
    CardState.ERROR, CardState.REMOVED,
)
RUNNING, DONE, IMPORT_INTERRUPTED, FAILED = (
    ImportState.RUNNING, ImportState.DONE, ImportState.INTERRUPTED, ImportState.FAILED,
)
__all__ = ["import_owner_alive", "pair_key", "text", "utcnow"]


def close_dead_imports(store: Store) -> int:
    return store.close_dead_imports()


def close_dead_cards(store: Store) -> int:
    return store.close_dead_cards()


def size_known(store: Store, size: int) -> bool:
    return store.size_known(size)


def photo_id_by_sha(store: Store, sha: str) -> int | None:
    return store.photo_id_by_sha(sha)


def raw_by_sha(store: Store, sha: str) -> dict[str, Any] | None:
    return store.raw_by_sha(sha)


def insert(store: Store, table: str, **fields: Any) -> bool:
    return store.record_file(table, **fields)


def pair(store: Store, key: str) -> int:
    return store.pair_raw_files(key)


def card_seen(store: Store, uuid: str, label: str, fs_type: str, device: str) -> int:
    return store.card_seen(uuid, label, fs_type, device)


def set_card(store: Store, card_id: int, **fields: Any) -> None:
    store.set_card(card_id, **fields)


def card_removed(store: Store, device: str) -> None:
    store.card_removed(device)
