"""What card ingest writes to the store: imports with live progress, cards, RAW files and pairing.

Kept apart from :mod:`appliance.store` so the ingest SQL lives in one place; every function takes
the caller's :class:`~appliance.store.Store` (one connection per thread).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .database import Store, utcnow

# Card states, as shown by the admin and the LEDs
MOUNTING, IMPORTING, SAFE_TO_REMOVE, INTERRUPTED, ERROR, REMOVED = (
    "mounting", "importing", "safe_to_remove", "interrupted", "error", "removed",
)
# Import states
RUNNING, DONE, IMPORT_INTERRUPTED, FAILED = "running", "done", "interrupted", "failed"


# -- imports ------------------------------------------------------------------------------------
def _process_started(pid: int) -> float | None:
    """Wall-clock start time of a live process, or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        btime = next(
            float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError):
        return None
    ticks = int(stat.rsplit(")", 1)[1].split()[19])
    return btime + ticks / os.sysconf("SC_CLK_TCK")


def import_owner_alive(row: dict[str, Any]) -> bool:
    """Is the process that started this running import still the one running it?"""
    pid, started = row.get("pid"), row.get("started_ts")
    if not pid:
        return False
    began = _process_started(int(pid))
    # a reused pid belongs to a process that started after the import did
    return began is not None and (started is None or began <= float(started) + 2)


def close_dead_imports(store: Store) -> int:
    """Mark imports whose process died (power cut, SIGKILL) as interrupted; returns how many."""
    closed = 0
    for row in store.rows("SELECT id, pid, started_ts FROM imports WHERE state = 'running'"):
        if not import_owner_alive(row):
            store.update_import(row["id"], state=IMPORT_INTERRUPTED, finished_at=utcnow(),
                                current_file=None)
            closed += 1
    return closed


def close_dead_cards(store: Store) -> int:
    """At importer start-up no card is being handled: cards left mounting or importing by the
    previous run are interrupted (they are picked up again if still inserted)."""
    cursor = store.conn.execute(
        "UPDATE cards SET state = ?, updated_at = ?, mount_path = NULL, "
        "error = COALESCE(error, ?) WHERE state IN (?, ?)",
        (INTERRUPTED, utcnow(), "the importer stopped before this card was finished",
         MOUNTING, IMPORTING),
    )
    return cursor.rowcount


# -- identity -----------------------------------------------------------------------------------
def size_known(store: Store, size: int) -> bool:
    """Is there a photo or RAW file of exactly this size (so a duplicate is possible)?"""
    return bool(store.scalar(
        "SELECT EXISTS (SELECT 1 FROM photos WHERE size = ?) "
        "OR EXISTS (SELECT 1 FROM raw_files WHERE size = ?)", (size, size),
    ))


def photo_id_by_sha(store: Store, sha: str) -> int | None:
    return store.scalar("SELECT id FROM photos WHERE sha256 = ?", (sha,))


def raw_by_sha(store: Store, sha: str) -> dict[str, Any] | None:
    return store.row("SELECT * FROM raw_files WHERE sha256 = ?", (sha,))


def text(value: str | Path) -> str:
    """A file name or path as text SQLite can store.

    Names that are not UTF-8 (an ext4 drive, an FTP/SMB hot folder) reach Python as
    surrogate-escaped strings, which SQLite refuses; undecodable bytes become U+FFFD.
    """
    return os.fsencode(value).decode("utf-8", "replace")


def pair_key(source: Path) -> str:
    """Key pairing a RAW with its JPEG: same folder, same base name (any case)."""
    return text(f"{source.parent}/{source.stem.lower()}")


# -- photos, RAW files and pairing ---------------------------------------------------------------
def insert(store: Store, table: str, **fields: Any) -> bool:
    """Record a buffered photo or an archived RAW file (inside the caller's transaction, so a
    batch costs one fsync); False when that sha256 is already recorded."""
    assert table in ("photos", "raw_files")
    fields.setdefault("imported_at", utcnow())
    cursor = store.conn.execute(
        f"INSERT OR IGNORE INTO {table} ({', '.join(fields)}) "
        f"VALUES ({', '.join('?' for _ in fields)})",
        tuple(fields.values()),
    )
    return cursor.rowcount == 1


def pair(store: Store, key: str) -> int:
    """Attach unpaired RAW files to the JPEG with the same pair key; returns how many were paired."""
    photo_id = store.scalar(
        "SELECT id FROM photos WHERE pair_key = ? ORDER BY id DESC LIMIT 1", (key,)
    )
    if photo_id is None:
        return 0
    cursor = store.conn.execute(
        "UPDATE raw_files SET photo_id = ? WHERE pair_key = ? AND photo_id IS NULL",
        (photo_id, key),
    )
    return cursor.rowcount


# -- cards --------------------------------------------------------------------------------------
def card_seen(store: Store, uuid: str, label: str, fs_type: str, device: str) -> int:
    """Record an inserted card (a card inserted again keeps its row); returns its id."""
    now = utcnow()
    with store.transaction():
        store.conn.execute(
            "INSERT INTO cards (uuid, label, fs_type, device, state, first_seen_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uuid) DO UPDATE SET label = excluded.label, "
            "fs_type = excluded.fs_type, device = excluded.device, state = excluded.state, "
            "error = NULL, mount_path = NULL, updated_at = excluded.updated_at",
            (uuid, label, fs_type, device, MOUNTING, now, now),
        )
        return int(store.scalar("SELECT id FROM cards WHERE uuid = ?", (uuid,)))


def set_card(store: Store, card_id: int, **fields: Any) -> None:
    fields["updated_at"] = utcnow()
    sets = ", ".join(f"{k} = ?" for k in fields)
    store.conn.execute(f"UPDATE cards SET {sets} WHERE id = ?", (*fields.values(), card_id))


def card_removed(store: Store, device: str) -> None:
    """A finished card's device went away (interrupted and failed cards keep their state)."""
    store.conn.execute(
        "UPDATE cards SET state = ?, updated_at = ? WHERE device = ? AND state = ?",
        (REMOVED, utcnow(), device, SAFE_TO_REMOVE),
    )
