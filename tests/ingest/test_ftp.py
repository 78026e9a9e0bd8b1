"""Frames over FTP: a real pyftpdlib server on 127.0.0.1 driven by Python's ftplib.

Accounts come from the store (hashed passwords), each is confined to its inbox, a complete upload
is imported through the verified import (dedupe included) and an interrupted one never becomes a
photo.
"""

from __future__ import annotations

import ftplib
import io
import os
import socket
import struct
import threading
from collections.abc import Iterator

import pytest
from PIL import Image
from support.files import sha256
from support.ftp import PASSWORD, USER, account, connect, photos, serving
from support.images import save_jpeg
from support.polling import wait_for
from support.services import free_port
from werkzeug.security import check_password_hash, generate_password_hash

from appliance.config import Config
from appliance.ingest.ftp import FtpIngest, ends_like_a_jpeg
from appliance.ingest.ftp_auth import valid_user
from appliance.store import Store


@pytest.fixture
def ftp_ingest(config: Config, store: Store) -> Iterator[FtpIngest]:
    store.add_ftp_account(USER, generate_password_hash(PASSWORD), "Canon R5, Jane")
    with serving(config) as ingest:
        yield ingest


def test_a_frame_is_imported_when_its_upload_completes(ftp_ingest, store, samples):
    frame = samples / "gps" / "DSCN0010.jpg"
    with connect(ftp_ingest) as ftp, open(frame, "rb") as handle:
        ftp.storbinary("STOR DSCN0010.jpg", handle)
    wait_for(lambda: photos(store), 20, "the photo in the store")
    assert photos(store) == [{"original_name": "DSCN0010.jpg", "sha256": sha256(frame)}]
    wait_for(lambda: account(store)["frames_received"] == 1, 10, "the frame counted")
    assert account(store)["last_frame_at"]
    # nothing is left behind: not in the inbox, not among the received files
    assert [p for p in ftp_ingest.inboxes.rglob("*") if p.is_file()] == []
    wait_for(lambda: not any(p.is_file() for p in ftp_ingest.received.rglob("*")), 10, "received/ empty")


def test_a_resent_frame_is_a_duplicate_and_a_new_one_under_its_name_a_new_photo(ftp_ingest, store,
                                                                                  tmp_path):
    first = save_jpeg(tmp_path / "a.jpg", Image.effect_noise((320, 240), 40).convert("RGB"))
    second = save_jpeg(tmp_path / "b.jpg", Image.effect_noise((320, 240), 70).convert("RGB"))
    with connect(ftp_ingest) as ftp:
        for path in (first, first, second):  # the camera retries, then reuses the name
            with open(path, "rb") as handle:
                ftp.storbinary("STOR IMG_0001.JPG", handle)
    wait_for(lambda: account(store)["frames_received"] == 3, 30, "three frames handled")
    assert [p["sha256"] for p in photos(store)] == [sha256(first), sha256(second)]
    assert {p["original_name"] for p in photos(store)} == {"IMG_0001.JPG"}


def test_frames_of_the_same_size_are_told_apart_by_their_hashes(ftp_ingest, store, tmp_path):
    # a size already in the store makes the import compare hashes first (those made on arrival)
    base = save_jpeg(tmp_path / "base.jpg", Image.effect_noise((320, 240), 40).convert("RGB")).read_bytes()
    frames = []
    for mark in (b"frame 1", b"frame 2"):  # one image, a comment of the same length: the same size
        path = tmp_path / f"{mark.decode()}.jpg"
        path.write_bytes(base[:2] + b"\xff\xfe" + (2 + len(mark)).to_bytes(2, "big") + mark + base[2:])
        frames.append(path)
    assert frames[0].stat().st_size == frames[1].stat().st_size
    with connect(ftp_ingest) as ftp:
        for index, path in enumerate((frames[0], frames[1], frames[0])):
            with open(path, "rb") as handle:
                ftp.storbinary(f"STOR IMG_000{index}.JPG", handle)
    wait_for(lambda: account(store)["frames_received"] == 3, 30, "three frames handled")
    assert [p["sha256"] for p in photos(store)] == [sha256(frames[0]), sha256(frames[1])]


def test_a_frame_is_on_the_disk_before_the_camera_hears_226(ftp_ingest, store, tmp_path, monkeypatch):
    # the camera may delete a frame once told it arrived: by then its bytes must be fsynced
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        real_fsync(fd)
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))

    frame = save_jpeg(tmp_path / "f.jpg", Image.effect_noise((320, 240), 40).convert("RGB"))
    with connect(ftp_ingest) as ftp:
        monkeypatch.setattr(os, "fsync", recording_fsync)
        with open(frame, "rb") as handle:
            assert ftp.storbinary("STOR IMG_0042.JPG", handle).startswith("226")
        at_226 = list(synced)
    assert str(ftp_ingest.inboxes / USER / "IMG_0042.JPG") in at_226
    wait_for(lambda: photos(store), 20, "the photo in the store")


def cut_upload(ingest: FtpIngest, data: bytes, how: str) -> None:
    """Send half of ``data`` as cut.jpg, then abort (ABOR) or drop the connections (reset)."""
    ftp = connect(ingest)
    conn = ftp.transfercmd("STOR cut.jpg")
    conn.sendall(data[: len(data) // 2])
    if how == "abort":  # the camera gives up: ABOR, 426, then 226
        assert ftp.abort().startswith("426")
        conn.close()
        ftp.getresp()
        ftp.quit()
        return
    # The camera's Wi-Fi drops once the server has the half: the connections are reset. To the
    # server the data connection simply ended, which in FTP is how a whole file ends too.
    partial = ingest.inboxes / USER / "cut.jpg"
    wait_for(lambda: partial.is_file() and partial.stat().st_size >= len(data) // 4, 10,
             "most of the half on the server")  # (the rest may sit in its write buffer)
    for sock in (conn, ftp.sock):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


@pytest.mark.parametrize("how", ["abort", "reset"])
def test_an_interrupted_upload_never_becomes_a_photo(ftp_ingest, store, samples, how):
    data = (samples / "gps" / "DSCN0010.jpg").read_bytes()
    cut_upload(ftp_ingest, data, how)
    wait_for(lambda: account(store)["partials_discarded"] == 1, 10, "the partial upload counted")
    assert photos(store) == []
    assert [p for p in ftp_ingest.inboxes.rglob("*") if p.is_file()] == []
    assert [p for p in ftp_ingest.received.rglob("*") if p.is_file()] == []
    assert account(store)["frames_received"] == 0
    with connect(ftp_ingest) as ftp:  # the camera sends it again, whole this time
        ftp.storbinary("STOR cut.jpg", io.BytesIO(data))
    wait_for(lambda: photos(store), 20, "the photo in the store")
    assert photos(store)[0]["original_name"] == "cut.jpg"


def test_a_jpeg_is_whole_only_with_its_end_marker(tmp_path):
    whole = save_jpeg(tmp_path / "w.jpg", Image.effect_noise((64, 48), 30).convert("RGB"))
    data = whole.read_bytes()
    assert ends_like_a_jpeg(whole)
    (tmp_path / "padded.jpg").write_bytes(data + b"\x00" * 300)
    assert ends_like_a_jpeg(tmp_path / "padded.jpg")
    (tmp_path / "cut.jpg").write_bytes(data[:-10])
    assert not ends_like_a_jpeg(tmp_path / "cut.jpg")
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert not ends_like_a_jpeg(tmp_path / "empty.jpg")
    assert not ends_like_a_jpeg(tmp_path / "missing.jpg")


@pytest.mark.parametrize("user, password", [(USER, "wrong"), ("nobody", PASSWORD), ("../etc", "x")])
def test_a_wrong_login_is_refused(ftp_ingest, user, password):
    with pytest.raises(ftplib.error_perm, match="530"):
        connect(ftp_ingest, user, password)


def test_an_account_cannot_leave_its_inbox_read_or_delete(ftp_ingest, store, config, tmp_path):
    outside = config.folder("state") / "secret.txt"
    outside.write_text("not for cameras")
    inbox = ftp_ingest.inboxes / USER
    with connect(ftp_ingest) as ftp:
        ftp.cwd("..")
        assert ftp.pwd() == "/"  # the inbox is the root: `..` goes nowhere
        ftp.storbinary("STOR ../../escape.txt", io.BytesIO(b"x"))  # lands inside, as /escape.txt
        ftp.storbinary("STOR /abs.txt", io.BytesIO(b"y"))
        os.symlink(outside.parent, inbox / "link")  # a link planted in the inbox
        with pytest.raises(ftplib.error_perm, match="550"):
            ftp.storbinary("STOR link/planted.txt", io.BytesIO(b"z"))
        with pytest.raises(ftplib.error_perm, match="550"):
            ftp.retrlines("RETR link/secret.txt", lambda line: None)
        with pytest.raises(ftplib.error_perm, match="550"):
            ftp.delete("link/secret.txt")
    assert outside.read_text() == "not for cameras"
    assert not (config.folder("state") / "planted.txt").exists()
    assert not any((tmp_path / name).exists() for name in ("escape.txt", "abs.txt"))
    # what was stored went through the import: not photos, so kept (never lost) in received/
    kept = wait_for(lambda: sorted(p.name for p in ftp_ingest.received.rglob("*.txt")), 20,
                    "the two text files kept")
    assert kept == ["abs.txt", "escape.txt"]
    assert photos(store) == []


def test_account_names_are_safe_folder_names():
    assert valid_user("camera-a") and valid_user("Nikon_Z9.2")
    for bad in ("", "../x", ".hidden", "a/b", "x" * 33, "é"):
        assert not valid_user(bad)


class Lifecycle:
    """A service runner that runs until told to stop and remembers what it was told."""

    def __init__(self) -> None:
        self.stop, self.said, self.ticks = threading.Event(), [], 0

    def running(self) -> bool:
        return not self.stop.is_set()

    def ready(self, status: str, store: object = None) -> None:
        self.said.append(status)

    def status(self, text: str) -> None:
        self.said.append(text)

    def alive(self) -> None:
        self.ticks += 1

    def sleep(self, seconds: float) -> None:
        self.stop.wait(seconds)


def test_the_ftp_service_serves_the_configured_port_until_stopped(config, store, samples):
    from dataclasses import replace

    from appliance.config import FtpConfig
    from appliance.ingest import ftp_service

    port = free_port()
    config = replace(config, ftp=FtpConfig(bind=f"127.0.0.1:{port}", passive_ports="61000-61004"))
    store.add_ftp_account(USER, generate_password_hash(PASSWORD))
    service = Lifecycle()
    # a service runs in its own process's main thread, with its own connection to the store
    thread = threading.Thread(target=lambda: ftp_service.run(config, Store(config.db_path), service),
                              daemon=True)
    thread.start()
    wait_for(lambda: service.said, 10, "READY")
    assert service.said[0] == f"FTP on 127.0.0.1:{port}, 1 account(s)"
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", port, timeout=10)
    ftp.login(USER, PASSWORD)
    with open(samples / "gps" / "DSCN0010.jpg", "rb") as handle:
        ftp.storbinary("STOR DSCN0010.jpg", handle)
    _, data_port = ftplib.parse227(ftp.sendcmd("PASV"))
    assert 61000 <= data_port <= 61004  # ftp.passive_ports
    ftp.quit()
    wait_for(lambda: photos(store), 20, "the photo in the store")
    service.stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive() and service.ticks > 0
    with pytest.raises(OSError):  # the port is closed again
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_ftp_account_adds_a_hashed_account_from_stdin(config, store, monkeypatch, capsys):
    from appliance.cli import main

    monkeypatch.setenv("APPLIANCE_CONFIG", str(config.source))
    monkeypatch.setattr("sys.stdin", io.StringIO("long enough secret\n"))
    assert main(["ftp-account", "nikon-z9", "--label", "second shooter"]) == 0
    row = store.ftp_account("nikon-z9")
    assert row is not None and row["label"] == "second shooter"
    assert "long enough secret" not in row["password_hash"]
    assert check_password_hash(row["password_hash"], "long enough secret")
    monkeypatch.setattr("sys.stdin", io.StringIO("long enough secret\n"))
    assert main(["ftp-account", "nikon-z9"]) == 1  # exists already
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["ftp-account", "canon"]) == 2
    assert main(["ftp-account", "../x"]) == 2
    assert store.ftp_account("canon") is None
    assert "exists already" in capsys.readouterr().err


def test_what_an_earlier_run_left_in_an_inbox_is_imported_or_discarded(config, store, samples):
    """A connection dropped before the server read a byte leaves a file and no callback; a crash
    can come between an upload's end and its move. The next start handles both."""
    store.add_ftp_account(USER, generate_password_hash(PASSWORD))
    ingest = FtpIngest(config, port=0)
    whole = (samples / "gps" / "DSCN0010.jpg").read_bytes()
    (ingest.inboxes / USER / "DCIM").mkdir(parents=True)
    (ingest.inboxes / USER / "DCIM" / "whole.jpg").write_bytes(whole)
    (ingest.inboxes / USER / "cut.jpg").write_bytes(whole[:1000])
    (ingest.inboxes / USER / "empty.jpg").write_bytes(b"")
    stop = threading.Event()
    thread = threading.Thread(target=ingest.serve, args=(lambda: not stop.is_set(),), daemon=True)
    thread.start()
    try:
        wait_for(lambda: photos(store), 20, "the whole frame imported")
        wait_for(lambda: account(store)["partials_discarded"] == 2, 10, "two partials counted")
        assert [p["original_name"] for p in photos(store)] == ["whole.jpg"]
        assert [p for p in ingest.inboxes.rglob("*") if p.is_file()] == []
    finally:
        stop.set()
        thread.join(timeout=30)
