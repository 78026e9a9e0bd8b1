"""500 frames over FTP while the FTP service (and its import thread) is killed and started again:
every complete frame imported exactly once, no partial upload ever a photo.

The service runs as ``appliance ftp`` in a subprocess; a camera-like client sends the frames one by
one and, like a camera, re-sends a frame whose upload did not end with ``226``. Every 50th frame the
client first cuts an upload off (ABOR). The service is SIGKILLed twice while frames are flowing.
"""

from __future__ import annotations

import ftplib
import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from support.config import write_config
from support.files import sha256
from support.polling import wait_for
from support.services import free_port
from werkzeug.security import generate_password_hash

from appliance.config import load
from appliance.store import open_store

FRAMES = 500
USER, PASSWORD = "camera-a", "shutter 1/250"
pytestmark = pytest.mark.slow


def make_frames(folder: Path) -> list[Path]:
    folder.mkdir()
    base = Image.effect_noise((160, 120), 60).convert("RGB")
    frames = []
    for i in range(FRAMES):
        path = folder / f"IMG_{i:04d}.JPG"
        frame = base.copy()
        ImageDraw.Draw(frame).text((8, 8), f"{i:04d}", fill=(255, 255, 0))  # every frame different
        frame.save(path, quality=80)
        frames.append(path)
    assert len({sha256(frame) for frame in frames}) == FRAMES
    return frames


class Camera:
    """Sends frames in order, reconnecting and re-sending until each one got its 226."""

    def __init__(self, port: int) -> None:
        self.port, self.ftp, self.resent, self.cut = port, None, 0, 0

    def _session(self) -> ftplib.FTP:
        if self.ftp is None:
            ftp = ftplib.FTP()
            ftp.connect("127.0.0.1", self.port, timeout=5)
            ftp.login(USER, PASSWORD)
            self.ftp = ftp
        return self.ftp

    def _drop(self) -> None:
        if self.ftp is not None:
            self.ftp.close()
        self.ftp = None

    def cut_off(self, data: bytes, name: str) -> None:
        ftp = self._session()
        conn = ftp.transfercmd(f"STOR {name}")
        conn.sendall(data[: len(data) // 2])
        ftp.abort()
        conn.close()
        ftp.getresp()
        self.cut += 1

    def send(self, path: Path, deadline: float) -> None:
        data = path.read_bytes()
        attempt = 0
        while True:
            try:
                if attempt == 0 and path.name.endswith("0.JPG") and int(path.stem[-4:]) % 50 == 0:
                    self.cut_off(data, path.name)
                self._session().storbinary(f"STOR {path.name}", io.BytesIO(data))
                return
            except (OSError, EOFError, ftplib.Error):
                self._drop()
                attempt += 1
                self.resent += 1
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


def test_every_complete_frame_is_imported_once_across_kills(tmp_path, moto_url, bucket):
    port = free_port()
    path = write_config(tmp_path, moto_url, bucket,
                        f'[ftp]\nbind = "127.0.0.1:{port}"\npassive_ports = "{port + 1}-{port + 40}"\n')
    config = load(path)
    store = open_store(config)
    store.add_ftp_account(USER, generate_password_hash(PASSWORD))
    frames = make_frames(tmp_path / "frames")
    command = [sys.executable, "-m", "appliance", "--config", str(path), "ftp"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    def start() -> subprocess.Popen[bytes]:
        with open(tmp_path / "ftp.log", "ab") as log:  # (the child keeps its own copy)
            return subprocess.Popen(command, env=env, stdout=log, stderr=log)

    service = start()
    camera, sent = Camera(port), [0]
    deadline = time.monotonic() + 600

    def shoot() -> None:
        for frame in frames:
            camera.send(frame, deadline)
            sent[0] += 1

    shooter = threading.Thread(target=shoot, daemon=True)
    shooter.start()
    try:
        for kill_at in (150, 330):  # killed twice while frames flow
            wait_for(lambda at=kill_at: sent[0] >= at, 300, f"{kill_at} frames sent")
            service.send_signal(signal.SIGKILL)
            service.wait(10)
            time.sleep(0.5)  # the camera fails to connect meanwhile
            service = start()
        shooter.join(600)
        assert not shooter.is_alive()
        expected = {sha256(frame) for frame in frames}
        wait_for(lambda: store.scalar("SELECT COUNT(*) FROM photos") >= FRAMES, 300, "every frame imported")
        time.sleep(1)  # anything still in flight would show as an extra photo
        shas = [r["sha256"] for r in store.rows("SELECT sha256 FROM photos")]
        assert len(shas) == len(set(shas)) == FRAMES  # once each
        assert set(shas) == expected  # every photo is a whole frame: no partial ever a photo
        # (a cut that meets a kill is not tried again: that frame's first try was the kill's)
        assert camera.cut >= FRAMES // 50 - 2 and camera.resent >= 2
        row = store.ftp_account(USER)
        assert row["partials_discarded"] >= camera.cut
        received = config.folder("state") / "ftp" / "received"
        wait_for(lambda: not any(p.is_file() for p in received.rglob("*")), 30, "received/ empty")
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(30)
        store.close()
