"""What card ingest writes to the store: imports with live progress, cards, RAW files and pairing.

An import row is owned by the process that started it (its pid and start time tell a live import
from one whose process died); the importer updates its progress a few times a second.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from .connection import StoreBase, utcnow
from .sources import parse_source
from .states import CardState, ImportState


# -- values as stored -----------------------------------------------------------------------------
def text(value: str | Path) -> str:
    """A file name or path as text SQLite can store.

    Names that are not UTF-8 (an ext4 drive, an FTP/SMB hot folder) reach Python as
    surrogate-escaped strings, which SQLite refuses; undecodable bytes become U+FFFD.
    """
    return os.fsencode(value).decode("utf-8", "replace")


def pair_key(source: Path) -> str:
    """Key pairing a RAW with its JPEG: same folder, same base name (any case)."""
    return text(f"{source.parent}/{source.stem.lower()}")


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


class Imports(StoreBase):
    """Imports, cards and RAW files."""

    # -- imports ------------------------------------------------------------------------------
    def start_import(self, source: str, card_id: int | None = None) -> int:
        """A new running import owned by this process (its pid tells a live import from a dead one)."""
        now = time.time()
        origin = parse_source(source)  # the door it came through, for auto-publish rules
        with self.transaction():
            cursor = self.conn.execute(
                "INSERT INTO imports (source, state, started_at, card_id, pid, started_ts, updated_ts, "
                "source_kind, source_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (source, ImportState.RUNNING, utcnow(), card_id, os.getpid(), now, now,
                 origin.kind.value, origin.name),
            )
        return int(cursor.lastrowid or 0)

    def update_import(self, import_id: int, **fields: Any) -> None:
        """Update progress or outcome columns (``report`` may be a dict)."""
        fields["updated_ts"] = time.time()
        if "report" in fields and not isinstance(fields["report"], str):
            fields["report"] = json.dumps(fields["report"])
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.conn.execute(f"UPDATE imports SET {sets} WHERE id = ?", (*fields.values(), import_id))

    def import_record(self, import_id: int) -> dict[str, Any] | None:
        return self.row("SELECT * FROM imports WHERE id = ?", (import_id,))

    def running_import_rows(self) -> list[dict[str, Any]]:
        """Imports marked running, newest first (including any whose process died)."""
        return self.rows("SELECT * FROM imports WHERE state = 'running' ORDER BY id DESC")

    def recent_import_rows(self, limit: int = 20) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM imports ORDER BY id DESC LIMIT ?", (limit,))

    def imports_of_kinds_since(self, kinds: tuple[str, ...], since: str, limit: int = 5000
                               ) -> list[dict[str, Any]]:
        """Finished imports of these source kinds (``ftp``, ``tether``) since ``since`` (ISO 8601),
        newest first: a camera's frames, one small import per burst."""
        marks = ", ".join("?" for _ in kinds)
        return self.rows(
            "SELECT id, source, source_kind, source_name, state, finished_at, report FROM imports "
            f"WHERE source_kind IN ({marks}) AND finished_at >= ? ORDER BY finished_at DESC, id DESC "
            "LIMIT ?", (*kinds, since, limit))

    def close_dead_imports(self) -> int:
        """Mark imports whose process died (power cut, SIGKILL) as interrupted; returns how many."""
        closed = 0
        for row in self.rows("SELECT id, pid, started_ts FROM imports WHERE state = 'running'"):
            if not import_owner_alive(row):
                self.update_import(row["id"], state=ImportState.INTERRUPTED, finished_at=utcnow(),
                                   current_file=None)
                closed += 1
        return closed

    # -- identity -----------------------------------------------------------------------------
    def size_known(self, size: int) -> bool:
        """Is there a photo or RAW file of exactly this size (so a duplicate is possible)?"""
        return bool(self.scalar(
            "SELECT EXISTS (SELECT 1 FROM photos WHERE size = ?) "
            "OR EXISTS (SELECT 1 FROM raw_files WHERE size = ?)", (size, size),
        ))

    def raw_by_sha(self, sha256: str) -> dict[str, Any] | None:
        return self.row("SELECT * FROM raw_files WHERE sha256 = ?", (sha256,))

    # -- photos, RAW files and pairing --------------------------------------------------------
    def record_file(self, table: str, **fields: Any) -> bool:
        """Record a buffered photo or an archived RAW file (inside the caller's transaction, so a
        batch costs one fsync); False when that sha256 is already recorded."""
        assert table in ("photos", "raw_files")
        fields.setdefault("imported_at", utcnow())
        cursor = self.conn.execute(
            f"INSERT OR IGNORE INTO {table} ({', '.join(fields)}) "
            f"VALUES ({', '.join('?' for _ in fields)})",
            tuple(fields.values()),
        )
        return cursor.rowcount == 1

    def pair_raw_files(self, key: str) -> int:
        """Attach unpaired RAW files to the JPEG with the same pair key; returns how many were paired."""
        photo_id = self.scalar(
            "SELECT id FROM photos WHERE pair_key = ? ORDER BY id DESC LIMIT 1", (key,)
        )
        if photo_id is None:
            return 0
        cursor = self.conn.execute(
            "UPDATE raw_files SET photo_id = ? WHERE pair_key = ? AND photo_id IS NULL",
            (photo_id, key),
        )
        return cursor.rowcount

    # -- cards --------------------------------------------------------------------------------
    def card_seen(self, uuid: str, label: str, fs_type: str, device: str) -> int:
        """Record an inserted card (a card inserted again keeps its row); returns its id."""
        now = utcnow()
        with self.transaction():
            self.conn.execute(
                "INSERT INTO cards (uuid, label, fs_type, device, state, first_seen_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uuid) DO UPDATE SET label = excluded.label, "
                "fs_type = excluded.fs_type, device = excluded.device, state = excluded.state, "
                "error = NULL, mount_path = NULL, updated_at = excluded.updated_at",
                (uuid, label, fs_type, device, CardState.MOUNTING, now, now),
            )
            return int(self.scalar("SELECT id FROM cards WHERE uuid = ?", (uuid,)))

    def set_card(self, card_id: int, **fields: Any) -> None:
        fields["updated_at"] = utcnow()
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.conn.execute(f"UPDATE cards SET {sets} WHERE id = ?", (*fields.values(), card_id))

    def card_removed(self, device: str) -> None:
        """A finished card's device went away (interrupted and failed cards keep their state)."""
        self.conn.execute(
            "UPDATE cards SET state = ?, updated_at = ? WHERE device = ? AND state = ?",
            (CardState.REMOVED, utcnow(), device, CardState.SAFE_TO_REMOVE),
        )

    def close_dead_cards(self) -> int:
        """At importer start-up no card is being handled: cards left mounting or importing by the
        previous run are interrupted (they are picked up again if still inserted)."""
        cursor = self.conn.execute(
            "UPDATE cards SET state = ?, updated_at = ?, mount_path = NULL, "
            "error = COALESCE(error, ?) WHERE state IN (?, ?)",
            (CardState.INTERRUPTED, utcnow(), "the importer stopped before this card was finished",
             CardState.MOUNTING, CardState.IMPORTING),
        )
        return cursor.rowcount

    def recent_cards(self, limit: int = 20) -> list[dict[str, Any]]:
        """Cards seen lately (not removed), newest first, with the state of their import."""
        return self.rows(
            "SELECT c.*, i.state AS import_state FROM cards c LEFT JOIN imports i ON i.id = c.import_id "
            "WHERE c.state != ? ORDER BY c.updated_at DESC, c.id DESC LIMIT ?",
            (CardState.REMOVED, limit),
        )
