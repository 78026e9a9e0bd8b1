"""USB tether: the cameras met and every frame already taken from each, so none is taken twice."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .connection import StoreBase, utcnow

# A frame on a camera: (folder, name, size, mtime) as the camera reports them
FrameKey = tuple[str, str, int, int]


class TetherFrames(StoreBase):
    """Cameras by identity (model and serial number) and the frames handled from each."""

    def meet_tether_camera(self, camera: str, present: Iterable[FrameKey] = ()) -> None:
        """Record ``camera`` as met, with the frames on it then that are not to be taken
        (``present``), in one transaction: a crash leaves it either unmet or wholly met."""
        now = utcnow()
        with self.transaction():
            self.conn.execute(
                "INSERT OR IGNORE INTO tether_cameras (camera, first_seen_at) VALUES (?, ?)",
                (camera, now))
            self.conn.executemany(
                "INSERT OR IGNORE INTO tether_files (camera, folder, name, size, mtime, outcome, "
                "handled_at) VALUES (?, ?, ?, ?, ?, 'present', ?)",
                [(camera, *key, now) for key in present])

    def tether_camera(self, camera: str) -> dict[str, Any] | None:
        return self.row("SELECT * FROM tether_cameras WHERE camera = ?", (camera,))

    def tether_handled(self, camera: str) -> set[FrameKey]:
        """Every frame of ``camera`` already handled (imported, found on it when first met, ...)."""
        found = self.conn.execute(
            "SELECT folder, name, size, mtime FROM tether_files WHERE camera = ?", (camera,))
        return {(folder, name, size, mtime) for folder, name, size, mtime in found}

    def tether_outcomes(self, camera: str) -> dict[str, str]:
        """``folder/name`` -> outcome of each handled frame of ``camera``."""
        found = self.conn.execute(
            "SELECT folder, name, outcome FROM tether_files WHERE camera = ?", (camera,))
        return {f"{folder.rstrip('/')}/{name}": outcome for folder, name, outcome in found}

    def mark_tether_frames(self, camera: str, keys: Iterable[FrameKey], outcome: str) -> None:
        """Record frames of ``camera`` as handled (``outcome``: imported, duplicate, raw_archived,
        present when first met, kept when the import left the received copy)."""
        now = utcnow()
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO tether_files (camera, folder, name, size, mtime, outcome, "
                "handled_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(camera, *key, outcome, now) for key in keys])

    def count_tether_frame(self, camera: str) -> None:
        """One more frame from ``camera`` safely in the buffer."""
        with self.transaction():
            self.conn.execute(
                "UPDATE tether_cameras SET frames_received = frames_received + 1, last_frame_at = ? "
                "WHERE camera = ?", (utcnow(), camera))

    def tether_session(self, camera: str, connected: bool) -> None:
        """``camera`` is connected now (since now), or no longer."""
        with self.transaction():
            self.conn.execute("UPDATE tether_cameras SET connected_since = ? WHERE camera = ?",
                              (utcnow() if connected else None, camera))

    def end_tether_sessions(self) -> None:
        """No camera is connected (the tether service starts or stops)."""
        with self.transaction():
            self.conn.execute("UPDATE tether_cameras SET connected_since = NULL "
                              "WHERE connected_since IS NOT NULL")

    def tether_cameras(self) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM tether_cameras ORDER BY camera")
