"""USB tether against libgphoto2's virtual PTP camera (vusb, from the gphoto2 wheel).

What the virtual camera gives: a card (a folder of real camera JPEGs) listed and read over PTP, and
a capture that adds a frame and announces it with a real ``GP_EVENT_FILE_ADDED``. The tests drive
:meth:`Tether.serve` itself, "pressing the shutter" from its per-turn ``tick`` (libgphoto2 wants a
camera used from one thread). No real camera or USB port is involved anywhere.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import gphoto2 as gp
import pytest
from support.config import local_config, write_local_config
from support.files import sha256
from support.polling import wait_for
from support.samples import sample_files
from support.vcamera import IDENTITY, camera_env, fill_card

from appliance.config import Config
from appliance.ingest.tether import Tether, list_frames, safe_name
from appliance.store import Store, open_store

ROOT = Path(__file__).resolve().parents[2]
SOURCE = f"tether {IDENTITY}"


@pytest.fixture(scope="session")
def card(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one virtual card of this process: three real camera JPEGs and a video clip."""
    folder = tmp_path_factory.mktemp("vcamera")
    fill_card(folder, sample_files("exif-org/*.jpg")[:3])
    (folder / "DCIM" / "100TEST" / "MVI_0004.MOV").write_bytes(b"\x00\x00\x00\x18ftypqt  " * 64)
    return folder


@pytest.fixture
def camera(card: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """libgphoto2 finds the virtual camera (and only it) while the test runs."""
    for key, value in camera_env(card).items():
        monkeypatch.setenv(key, value)
    return card


def card_hashes(card: Path) -> dict[str, str]:
    return {str(p.relative_to(card)): sha256(p) for p in sorted(card.rglob("*")) if p.is_file()}


def tether_config(tmp_path: Path, extra: str = "") -> tuple[Config, Store]:
    config = local_config(tmp_path, f"[tether]\nlinger_seconds = 0\n{extra}")
    return config, open_store(config)


def serve(tether: Tether, steps: list[tuple[Callable[[], bool], Callable[[], None]]],
          timeout: float = 60.0, sleep: Callable[[float], None] = lambda s: None) -> None:
    """Run ``tether.serve`` here until every step ran: each step's action runs from the loop's tick
    once its condition holds (and the steps before it ran)."""
    import time

    deadline = time.monotonic() + timeout
    left = list(steps)

    def tick() -> None:
        if left and left[0][0]():
            left.pop(0)[1]()

    tether.serve(lambda: bool(left) and time.monotonic() < deadline, tick, sleep)
    assert not left, f"{len(left)} step(s) never ran within {timeout} s"


def outcomes(store: Store) -> dict[str, str]:
    return store.tether_outcomes(IDENTITY)


def photo_hashes(store: Store) -> list[str]:
    return [row["sha256"] for row in store.rows("SELECT sha256 FROM photos ORDER BY id")]


def tether_imports(store: Store) -> int:
    """Frames the tether's imports handled (imported, duplicate or skipped; a burst is one import)."""
    return store.scalar("SELECT COALESCE(SUM(imported + duplicates + skipped), 0) FROM imports "
                        "WHERE source = ?",
                        (SOURCE,))


def captured(store: Store, outcome: str) -> list[str]:
    return [path for path, done in outcomes(store).items() if "GPHOT/" in path and done == outcome]


def received_files(config: Config) -> list[Path]:
    folder = config.folder("state") / "tether" / "received"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_frames_shot_are_imported_once_and_a_repeat_is_a_duplicate(camera: Path, tmp_path: Path) -> None:
    before = card_hashes(camera)
    config, store = tether_config(tmp_path)
    statuses: list[str] = []
    tether = Tether(config, store, statuses.append)
    shutter: Callable[[], None] = lambda: tether.camera.trigger_capture()  # noqa: E731
    serve(tether, [
        (lambda: tether.caught_up, shutter),
        (lambda: len(captured(store, "imported")) == 1 and tether.idle(), shutter),
        (lambda: len(captured(store, "duplicate")) == 1 and tether.idle(), lambda: None),
    ])
    # met for the first time: what was on the card is left alone (recorded, never imported)
    on_card = {path: done for path, done in outcomes(store).items() if "100TEST/" in path}
    assert on_card == {f"/store_00010001/DCIM/100TEST/{name}": "present" for name in
                       ("IMG_0001.JPG", "IMG_0002.JPG", "IMG_0003.JPG", "MVI_0004.MOV")}
    # the two frames shot: the first imported, the second (the same picture) a duplicate
    assert tether_imports(store) == 2
    [sha] = photo_hashes(store)
    assert sha in before.values()  # the camera's bytes, whole
    assert store.tether_camera(IDENTITY)["frames_received"] == 2
    assert received_files(config) == []  # the received copies went once the buffer held them
    assert card_hashes(camera) == before  # nothing on the camera changed
    assert any(status.startswith(f"{IDENTITY}: connected") for status in statuses)


def test_existing_frames_on_request_and_a_restart_does_not_reimport(camera: Path, tmp_path: Path) -> None:
    config, store = tether_config(tmp_path, "import_existing = true")
    first = Tether(config, store)
    serve(first, [(lambda: first.caught_up and first.idle(), lambda: None)])
    handled = outcomes(store)
    jpegs = {p: o for p, o in handled.items() if p.endswith(".JPG")}
    assert set(jpegs.values()) <= {"imported", "duplicate"}
    assert handled["/store_00010001/DCIM/100TEST/MVI_0004.MOV"] == "not a photo"  # never read
    assert len(photo_hashes(store)) == 3  # three different pictures on the card
    assert tether_imports(store) == len(jpegs)

    again = Tether(config, store)  # the service restarted: same store, same camera
    serve(again, [(lambda: again.caught_up, lambda: None)])
    assert again.pulled == 0 and tether_imports(store) == len(jpegs)
    assert outcomes(store) == handled


def test_a_camera_that_stops_answering_is_waited_for_and_found_again(camera: Path, tmp_path: Path) -> None:
    """The card vanishes as a frame is announced (the event's file cannot be read: libgphoto2
    reports an error, as for a camera unplugged): the session closes, the service waits (it
    neither crashes nor stops) and takes the next frames once the camera answers again."""
    config, store = tether_config(tmp_path)
    statuses: list[str] = []
    tether = Tether(config, store, statuses.append)
    away = camera.with_name(camera.name + "-unplugged")
    naps: list[float] = []

    def unplug() -> None:
        camera.rename(away)
        tether.camera.trigger_capture()

    connected: list[object] = []

    def nap(seconds: float) -> None:  # the loop waits for a camera: plug it back in
        naps.append(seconds)
        connected.append(store.tether_camera(IDENTITY)["connected_since"])  # what the admin shows
        if away.exists():
            away.rename(camera)

    def connected_now() -> bool:
        connected.append(store.tether_camera(IDENTITY)["connected_since"])
        return bool(connected[-1])

    serve(tether, [
        (lambda: tether.caught_up and connected_now(), unplug),
        (lambda: tether.connections == 2 and tether.idle(), lambda: tether.camera.trigger_capture()),
        (lambda: len(captured(store, "imported")) == 1 and tether.idle(), lambda: None),
    ], sleep=nap)
    assert naps and any(": gone (" in status for status in statuses), statuses
    assert connected[0] and None in connected[1:]  # connected, then shown unplugged while away
    assert store.tether_camera(IDENTITY)["connected_since"] is None  # the service stopped
    assert len(photo_hashes(store)) == 1 and received_files(config) == []
    assert tether_imports(store) == len(captured(store, "imported") + captured(store, "duplicate"))


def test_a_frame_whose_download_fails_is_not_marked_and_is_pulled_again(camera: Path,
                                                                          tmp_path: Path) -> None:
    """The camera goes between announcing a frame and sending it: nothing is recorded, nothing
    is left half-written, and the frame is pulled whole when the camera answers again."""
    config, store = tether_config(tmp_path)
    tether = Tether(config, store)
    tether.imports.start()
    try:
        assert tether.connect()
        tether.camera.trigger_capture()
        frame = wait_for(tether.next_added, 10, "the capture's FILE_ADDED event", every=0)
        away = camera.with_name(camera.name + "-unplugged")
        camera.rename(away)
        try:
            with pytest.raises(gp.GPhoto2Error):
                tether.pull(frame)
        finally:
            away.rename(camera)
        assert frame.key not in store.tether_handled(IDENTITY) and tether.idle()
        assert received_files(config) == []
        tether.pull(frame)  # the camera answers again
        wait_for(lambda: frame.key in store.tether_handled(IDENTITY) and tether.idle(), 30)
        assert outcomes(store)[f"{frame.folder}/{frame.name}"] == "imported"
    finally:
        tether.disconnect()
        tether.imports.finish()
    assert len(photo_hashes(store)) == 1


# -- the service, as systemd (and udev) run it ------------------------------------------------
def appliance(config: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("VCAMERADIR", "IOLIBS", "NOTIFY_SOCKET")}
    return subprocess.Popen([sys.executable, "-m", "appliance", "--config", str(config), "tether"],
                            env={**clean, "PYTHONPATH": str(ROOT), **env}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.fixture
def services() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    return output


@pytest.mark.slow
def test_service_restart_takes_only_frames_shot_while_it_was_down(
        tmp_path: Path, services: list[subprocess.Popen[str]]) -> None:
    photos = sample_files("exif-org/*.jpg")[3:6]
    card = tmp_path / "card"
    fill_card(card, photos[:2])
    junk = card / "DCIM" / "100TEST" / "IMG_0009.JPG"  # named like a photo, not one
    junk.write_bytes(b"not a JPEG, whatever its name says " * 64)
    config_file = write_local_config(tmp_path, "[tether]\nimport_existing = true\n")
    config = local_config(tmp_path)
    store = open_store(config)
    services.append(appliance(config_file, camera_env(card)))
    wait_for(lambda: len(photo_hashes(store)) == 2 and len(outcomes(store)) == 3, 60, "the card's frames")
    stop(services[-1])
    assert outcomes(store)["/store_00010001/DCIM/100TEST/IMG_0009.JPG"] == "kept"
    [kept] = received_files(config)  # the import skipped it: its copy stays, never lost
    assert kept.read_bytes() == junk.read_bytes()

    fill_card(card, photos[2:], first=3)  # shot while the service was down (or unplugged)
    services.append(appliance(config_file, camera_env(card)))
    wait_for(lambda: len(photo_hashes(store)) == 3, 60, "the frame shot while down")
    output = stop(services[-1])
    assert tether_imports(store) == 4, output  # the first three were not read again
    assert sorted(outcomes(store).values()) == ["imported"] * 3 + ["kept"]
    assert sorted(photo_hashes(store)) == sorted(sha256(p) for p in photos)
    assert received_files(config) == [kept]


def test_a_frame_announced_again_while_importing_is_pulled_again(camera: Path, tmp_path: Path) -> None:
    """A camera saving to its memory may announce the next frame under the last one's name, size
    and time: each announcement is pulled into a folder of its own; a frame merely listed again
    while its import runs is not."""
    config, store = tether_config(tmp_path)
    tether = Tether(config, store)
    assert tether.connect()  # (the import thread not started yet: the imports wait)
    try:
        tether.camera.trigger_capture()
        frame = wait_for(tether.next_added, 10, "the capture's FILE_ADDED event", every=0)
        tether.pull(frame, announced=True)
        tether.pull(frame, announced=True)
        tether.pull(frame)  # listed on a reconnection: already being imported
        assert len(received_files(config)) == 2 and not tether.idle()
        tether.imports.start()
        wait_for(tether.idle, 30, "both imports")
    finally:
        tether.disconnect()
        tether.imports.finish()
    assert tether_imports(store) == 2 and len(photo_hashes(store)) == 1
    assert received_files(config) == []
    assert store.tether_camera(IDENTITY)["frames_received"] == 2


@pytest.mark.slow
def test_service_without_a_camera_stops_cleanly_after_lingering(
        tmp_path: Path, services: list[subprocess.Popen[str]]) -> None:
    """No camera (none on this machine's USB, no virtual one): READY, a wait of
    tether.linger_seconds, then exit 0 so systemd does not restart it (udev does on the next plug)."""
    config_file = write_local_config(tmp_path, "[tether]\nlinger_seconds = 1\n")
    services.append(appliance(config_file, {}))
    output, _ = services[-1].communicate(timeout=60)
    assert services[-1].returncode == 0, output
    assert "no camera to open: " in output and "no camera for 1 s: stopping" in output
    # libgphoto2 told to keep frames on the card (Canon EOS would keep them in memory only);
    # its effect needs a real Canon body: the virtual camera does not read this setting
    settings = local_config(tmp_path).folder("state") / "tether" / "gphoto" / "settings"
    assert settings.read_text() == "ptp2=capturetarget=card\n"


def test_a_frame_our_disk_cannot_take_is_left_for_later(camera: Path, tmp_path: Path) -> None:
    """Our side failing (the received folder cannot be made: a full or read-only disk alike) is
    not the camera's fault: the session stays open, the frame is not recorded, and it is tried
    again a while later (and on the next connection) until the disk takes it."""
    config, store = tether_config(tmp_path)
    statuses: list[str] = []
    tether = Tether(config, store, statuses.append)
    tether.imports.start()
    blocker = config.folder("state") / "tether"
    try:
        assert tether.connect()
        tether.camera.trigger_capture()
        frame = wait_for(tether.next_added, 10, "the capture's FILE_ADDED event", every=0)
        blocker.write_bytes(b"")  # a file where the tether's folder goes
        tether.pull(frame)
        assert any("could not store GPH_" in status for status in statuses), statuses
        assert tether.camera is not None and tether.idle()
        assert frame.key not in store.tether_handled(IDENTITY)
        tether.wait_once(100)  # too soon to try again
        assert frame.key not in store.tether_handled(IDENTITY) and tether.idle()
        blocker.unlink()
        tether.restore_at = 0  # (RESTORE_SECONDS later)
        tether.wait_once(100)
        wait_for(lambda: frame.key in store.tether_handled(IDENTITY) and tether.idle(), 30)
    finally:
        tether.disconnect()
        tether.imports.finish()
    assert outcomes(store)[f"{frame.folder}/{frame.name}"] == "imported"


def test_the_camera_protect_flag_reaches_the_photo(camera: Path, tmp_path: Path) -> None:
    """A frame protected in the camera (libgphoto2: no delete permission) is imported as protected,
    as a card's read-only file is, for the "only protected" auto-publish rule. (The virtual camera
    protects nothing: the flag is set on the frame as libgphoto2 would report it.)"""
    config, store = tether_config(tmp_path)
    tether = Tether(config, store)
    tether.imports.start()
    try:
        assert tether.connect()  # met for the first time: the card's frames are left alone
        listed = {f.name: f for f in list_frames(tether.camera)}
        assert not listed["IMG_0001.JPG"].protected  # vusb: ProtectionStatus 0, delete allowed
        tether.pull(dataclasses.replace(listed["IMG_0001.JPG"], protected=True), announced=True)
        tether.pull(listed["IMG_0002.JPG"], announced=True)
        wait_for(tether.idle, 30, "both imports")
    finally:
        tether.disconnect()
        tether.imports.finish()
    rows = store.rows("SELECT original_name, protected FROM photos ORDER BY original_name")
    assert [(row["original_name"], row["protected"]) for row in rows] == [
        ("IMG_0001.JPG", 1), ("IMG_0002.JPG", 0)]


@pytest.mark.parametrize(("name", "expected"), [
    ("IMG_0001.JPG", "IMG_0001.JPG"), ("../../etc/x.jpg", "_.._etc_x.jpg"), (".x.CR3", "x.CR3"),
    ("a\\b.NEF", "a_b.NEF"), ("x" * 300 + ".ARW", "x" * 100 + ".ARW"), ("", "frame"), ("..", "frame"),
])
def test_camera_file_names_stay_inside_their_folder(name: str, expected: str) -> None:
    assert safe_name(name) == expected


def test_frames_an_earlier_run_received_are_imported_on_start_without_a_camera(tmp_path: Path) -> None:
    """Killed between a frame's download and its import: the next start imports the received copy
    (a kept one, skipped for what it is, is left alone)."""
    config, store = tether_config(tmp_path)
    received = config.folder("state") / "tether" / "received"
    frame = sample_files("exif-org/*.jpg")[0]
    (received / "0123abcd-x1").mkdir(parents=True)
    shutil.copy(frame, received / "0123abcd-x1" / "IMG_0001.JPG")
    (received / "4567-kept.kept").mkdir()
    (received / "4567-kept.kept" / "IMG_0009.JPG").write_bytes(b"not a JPEG")
    tether = Tether(config, store)
    serve(tether, [(lambda: len(photo_hashes(store)) == 1 and tether.idle(), lambda: None)])
    assert photo_hashes(store) == [sha256(frame)]
    assert [p.name for p in received_files(config)] == ["IMG_0009.JPG"]  # the kept one stays
    source = store.scalar("SELECT source_kind FROM imports ORDER BY id DESC LIMIT 1")
    assert source == "tether"  # an auto-publish rule for the tether applies to it
