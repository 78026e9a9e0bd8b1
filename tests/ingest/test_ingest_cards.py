"""Cards end to end: real FAT / exFAT / ext4 images attached as loop devices, announced by the kernel,
picked up by pyudev, mounted read-only (BLKROSET + FUSE or the kernel's ext4), imported, unmounted.

Skipped where loop devices or FUSE are unavailable (needs root); the folder-based tests in
test_ingest.py cover the import logic everywhere.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from support.buffer import assert_all_imported, assert_buffer_sound
from support.cards import (
    attach,
    copying,
    detach,
    exfat_image,
    ext4_image,
    fat_image,
    messy_card,
    raw_standin,
    read_only_flag,
    require_card_images,
)
from support.config import write_local_config
from support.files import sha256
from support.polling import wait_for
from support.services import NotifyListener

from appliance.config import Config, load
from appliance.ingest.block_devices import BlockEvent, ignore_reason, system_disks
from appliance.ingest.cards import CardManager
from appliance.ingest.mounts import is_mounted, mount_table
from appliance.ingest.verified_copy import TEMP_PREFIX
from appliance.store import CardState, Store


def card_config(tmp_path: Path, importer_extra: str = "") -> Config:
    (tmp_path / "images").mkdir(exist_ok=True)
    path = write_local_config(tmp_path, f"""
[importer]
mount_root = "cards"
card_images = "images"
poll_seconds = 0.2
settle_seconds = 0.3
{importer_extra}

[gpio]
mock = true

[event]
slug = "wedding"
""")
    return load(path)


class Loops:
    """Loop devices attached by a test, detached at the end whatever happens."""

    def __init__(self) -> None:
        self.attached: list[str] = []

    def attach(self, image: Path) -> str:
        loop = attach(image)
        self.attached.append(loop)
        return loop

    def detach(self, loop: str) -> None:
        detach(loop)
        if loop in self.attached:
            self.attached.remove(loop)


@pytest.fixture
def loops():
    require_card_images()
    tracker = Loops()
    yield tracker
    for loop in list(tracker.attached):
        tracker.detach(loop)


@pytest.fixture
def managers():
    started: list[CardManager] = []
    yield started
    for manager in started:
        manager.stop()
        for entry in mount_table():
            if entry.target.is_relative_to(manager.config.importer.mount_root):
                subprocess.run(["fusermount", "-u", "-z", str(entry.target)], capture_output=True)
                subprocess.run(["umount", "-l", str(entry.target)], capture_output=True)


def start_manager(config: Config, managers: list[CardManager]) -> CardManager:
    manager = CardManager(config)
    managers.append(manager)
    manager.start()
    return manager


def card_rows(config: Config) -> dict[str, dict]:
    """Cards by UUID, with the state of their latest import (``import_state``)."""
    store = Store(config.db_path)
    try:
        return {r["uuid"]: r for r in store.rows(
            "SELECT c.*, i.state AS import_state FROM cards c "
            "LEFT JOIN imports i ON i.id = c.import_id")}
    finally:
        store.close()


def finished(config: Config, uuid: str) -> dict | None:
    """The card once it is safe to remove and its import (thumbnails too) is recorded."""
    row = card_rows(config).get(uuid)
    if row and row["state"] == CardState.SAFE_TO_REMOVE and row["import_state"] == "done":
        return row
    return None


def run_until(manager: CardManager, check, timeout: float, what: str):  # noqa: ANN001, ANN201
    def step():  # noqa: ANN202
        manager.poll(0.1)
        return check()

    return wait_for(step, timeout, what, every=0)


def camera_tree(root: Path, samples: Path, folder: str, photos: list[str]) -> list[Path]:
    """DCIM/<folder>/IMG_000N.JPG from real samples (the same names on every camera)."""
    out = []
    for number, name in enumerate(photos, start=1):
        target = root / "DCIM" / folder / f"IMG_{number:04d}.JPG"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(samples / "gps" / name, target)
        out.append(target)
    return out


def test_fat_card_inserted_while_running(tmp_path, samples, loops, managers):
    config = card_config(tmp_path)
    tree = tmp_path / "tree"
    expected_skips = messy_card(tree, samples)
    photos = camera_tree(tree, samples, "100CANON", ["DSCN0010.jpg", "DSCN0012.jpg"])
    raw_standin(tree / "DCIM" / "100CANON" / "IMG_0001.CR2", "raw-1")
    image = fat_image(config.importer.card_images / "canon.img", tree)
    before = sha256(image)
    manager = start_manager(config, managers)
    loop = loops.attach(image)
    card = run_until(manager, lambda: finished(config, "1234-ABCD"), 30, "the card")
    assert (card["fs_type"], card["label"], card["device"]) == ("vfat", "CANON", loop)
    assert card["mount_path"] is None
    target = config.importer.mount_root / "1234-ABCD"
    assert not is_mounted(target) and not target.exists()
    store = Store(config.db_path)
    assert_all_imported(store, photos + [tree / "DCIM" / "100CANON" / "IMG_0100.JPG"])
    assert_buffer_sound(config, store)
    raw = store.row("SELECT * FROM raw_files")
    assert raw["photo_id"] == store.scalar(
        "SELECT id FROM photos WHERE original_name = 'IMG_0001.JPG'")
    report = store.row("SELECT * FROM imports WHERE id = ?", (card["import_id"],))
    assert report["state"] == "done" and report["card_id"] == card["id"]
    assert report["skipped"] == len(expected_skips)
    store.close()
    assert sha256(image) == before, "the card image was written to"
    assert not read_only_flag(loop), "the read-only switch is undone once unmounted"


def test_a_read_only_device_refuses_writes(tmp_path, loops):
    from appliance.ingest.mounts import set_read_only

    image = tmp_path / "images" / "scratch.img"
    image.parent.mkdir()
    image.write_bytes(b"\0" * (1 << 20))
    loop = loops.attach(image)
    assert set_read_only(loop) and read_only_flag(loop)
    with pytest.raises(PermissionError), open(loop, "r+b") as device:
        device.write(b"written")
        device.flush()
    assert set_read_only(loop, False) and not read_only_flag(loop)
    with open(loop, "r+b") as device:
        device.write(b"written")
    loops.detach(loop)
    assert image.read_bytes().startswith(b"written")


def test_second_and_third_card_without_restart(tmp_path, samples, loops, managers):
    """FAT, exFAT and an ext4 SSD (configured folder, kernel mount) one after another; two
    cameras wrote the same file names."""
    config = card_config(tmp_path, 'folders = ["Photos"]')
    images = config.importer.card_images
    a = camera_tree(tmp_path / "a", samples, "100CANON", ["DSCN0021.jpg", "DSCN0025.jpg"])
    b = camera_tree(tmp_path / "b", samples, "100MSDCF", ["DSCN0027.jpg", "DSCN0029.jpg"])
    ssd = tmp_path / "ssd" / "Photos" / "IMG_0001.JPG"
    ssd.parent.mkdir(parents=True)
    shutil.copy2(samples / "gps" / "DSCN0038.jpg", ssd)
    (tmp_path / "ssd" / "Other").mkdir()
    shutil.copy2(samples / "gps" / "DSCN0040.jpg", tmp_path / "ssd" / "Other" / "skip.jpg")
    fat = fat_image(images / "a.img", tmp_path / "a", volume_id="AAAA0001")
    exfat = exfat_image(images / "b.img", tmp_path / "b")
    ext4 = ext4_image(images / "c.img", tmp_path / "ssd")
    hashes = {p: sha256(p) for p in (fat, exfat, ext4)}
    manager = start_manager(config, managers)
    for image in (fat, exfat, ext4):
        loops.attach(image)
        count = len(card_rows(config)) + 1
        run_until(manager, lambda n=count: len(card_rows(config)) == n and all(
            finished(config, uuid) for uuid in card_rows(config)), 30, f"card {image.name}")
    rows = sorted(card_rows(config).values(), key=lambda r: r["id"])
    assert [r["fs_type"] for r in rows] == ["vfat", "exfat", "ext4"]
    store = Store(config.db_path)
    assert_all_imported(store, a + b + [ssd])
    assert store.scalar("SELECT COUNT(*) FROM photos") == 5  # Other/ on the SSD is not imported
    names = sorted(r["original_name"] for r in store.rows("SELECT original_name FROM photos"))
    assert names == ["IMG_0001.JPG"] * 3 + ["IMG_0002.JPG"] * 2
    assert_buffer_sound(config, store)
    store.close()
    assert {p: sha256(p) for p in hashes} == hashes


def test_card_present_at_start_up(tmp_path, samples, loops, managers):
    config = card_config(tmp_path)
    photos = camera_tree(tmp_path / "tree", samples, "100CANON", ["DSCN0042.jpg"])
    loops.attach(fat_image(config.importer.card_images / "early.img", tmp_path / "tree"))
    manager = start_manager(config, managers)
    run_until(manager, lambda: finished(config, "1234-ABCD"), 30, "the card present at start-up")
    store = Store(config.db_path)
    assert_all_imported(store, photos)
    store.close()


def test_partitioned_card(tmp_path, samples, loops, managers):
    """Cameras format cards with an MBR partition table: the partition is the card."""
    config = card_config(tmp_path)
    photos = camera_tree(tmp_path / "tree", samples, "100CANON", ["DSCN0010.jpg"])
    image = fat_image(config.importer.card_images / "mbr.img", tmp_path / "tree",
                      partitioned=True, volume_id="0000BEEF")
    manager = start_manager(config, managers)
    loop = attach(image, partitions=True)
    loops.attached.append(loop)
    if not Path(f"/sys/class/block/{Path(loop).name}p1").exists():
        pytest.skip("this kernel does not scan partition tables on loop devices")
    run_until(manager, lambda: finished(config, "0000-BEEF"), 30, "the partitioned card")
    assert card_rows(config)["0000-BEEF"]["device"] == f"{loop}p1"
    store = Store(config.db_path)
    assert_all_imported(store, photos)
    store.close()


def test_what_is_not_a_card(tmp_path, loops, managers):
    import pyudev

    config = card_config(tmp_path)
    context = pyudev.Context()
    root_disk = next(iter(system_disks(config)))
    device = pyudev.Devices.from_name(context, "block", root_disk)
    assert ignore_reason(BlockEvent.from_device(device, "add"), config,
                         system_disks(config)) == "system disk"
    zram = BlockEvent("add", "/dev/zram0", "zram0", {"DEVTYPE": "disk"})
    assert ignore_reason(zram, config, set()) == "not a removable card"
    # a loop device that is not one of our card images (another program's) is never touched
    outside = tmp_path / "elsewhere.img"
    outside.write_bytes(b"\0" * (1 << 20))
    foreign = loops.attach(outside)
    event = BlockEvent.from_device(pyudev.Devices.from_device_file(context, foreign), "change")
    assert ignore_reason(event, config, system_disks(config)) == "loop device"
    # blank media and swap inside card_images: probed, no card recorded, nothing mounted
    blank = config.importer.card_images / "blank.img"
    blank.write_bytes(b"\0" * (4 << 20))
    swap = config.importer.card_images / "swap.img"
    swap.write_bytes(b"\0" * (4 << 20))
    subprocess.run(["mkswap", str(swap)], check=True, capture_output=True)
    manager = start_manager(config, managers)
    for image in (blank, swap):
        loop = loops.attach(image)
        run_until(manager, lambda lp=loop: manager.outcomes.get(lp), 10, "the probe")
        assert manager.outcomes.pop(loop) == "no filesystem"
        assert not read_only_flag(loop)
        loops.detach(loop)  # the next image may get the same loop device
    assert card_rows(config) == {}
    assert not list(config.importer.mount_root.glob("*"))


def _fuse_daemon_of(target: Path) -> int:
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if str(target).encode() in argv:
                return int(proc.name)
    raise AssertionError(f"no FUSE daemon serving {target}")


def big_jpeg(sample: Path, dest: Path, mb: int) -> Path:
    """A valid JPEG with a long trailer after its end marker (some cameras append data)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "wb") as out:
        out.write(sample.read_bytes())
        block = os.urandom(1 << 20)
        for _ in range(mb):
            out.write(block)
    return dest


def test_card_pulled_mid_copy_then_reinserted(tmp_path, samples, loops, managers):
    config = card_config(tmp_path)
    tree = tmp_path / "tree"
    photos = camera_tree(tree, samples, "100CANON", ["DSCN0010.jpg", "DSCN0012.jpg",
                                                    "DSCN0021.jpg"])
    big = big_jpeg(samples / "gps" / "DSCN0025.jpg", tree / "DCIM" / "100CANON" / "IMG_0002B.JPG",
                   120)
    image = fat_image(config.importer.card_images / "pulled.img", tree, size_mb=200)
    manager = start_manager(config, managers)
    loop = loops.attach(image)
    target = config.importer.mount_root / "1234-ABCD"
    buffer = config.folder("buffer")
    pulled = threading.Event()

    def pull_when_copying() -> None:
        wait_for(lambda: copying(buffer, 8 << 20), 30, "the big file to be copying", every=0.002)
        os.kill(_fuse_daemon_of(target), signal.SIGKILL)  # the card stops answering
        loops.detach(loop)  # and the kernel announces it is gone
        pulled.set()

    puller = threading.Thread(target=pull_when_copying)
    puller.start()
    card = run_until(manager, lambda: pulled.is_set() and card_rows(config).get(
        "1234-ABCD", {}).get("state") == CardState.INTERRUPTED and card_rows(config)["1234-ABCD"],
        60, "the interrupted card")
    puller.join()
    assert "went away" in (card["error"] or "") or "stopped" in (card["error"] or "")
    assert manager.wait_idle(10)
    assert not is_mounted(target)
    store = Store(config.db_path)
    assert store.scalar("SELECT state FROM imports WHERE id = ?", (card["import_id"],)) == (
        "interrupted")
    assert store.scalar("SELECT COUNT(*) FROM photos WHERE size = ?", (big.stat().st_size,)) == 0
    assert_buffer_sound(config, store)
    # inserted again: resumes, imports what is missing, nothing twice
    loops.attach(image)
    run_until(manager, lambda: finished(config, "1234-ABCD"), 60, "the re-inserted card")
    assert_all_imported(store, [*photos, big])
    assert store.scalar("SELECT COUNT(*) FROM photos") == 4
    assert_buffer_sound(config, store)
    store.close()


@pytest.mark.slow
def test_importer_service_sigkilled_mid_file_resumes(tmp_path, samples, loops):
    """`appliance importer` as systemd runs it (real NOTIFY_SOCKET), killed with SIGKILL while
    copying; restarted, it releases the stale mount and finishes the card."""
    config = card_config(tmp_path)
    tree = tmp_path / "tree"
    photos = camera_tree(tree, samples, "100CANON", ["DSCN0010.jpg", "DSCN0012.jpg"])
    big = big_jpeg(samples / "gps" / "DSCN0025.jpg", tree / "DCIM" / "100CANON" / "IMG_0001B.JPG",
                   120)
    image = fat_image(config.importer.card_images / "card.img", tree, size_mb=200)
    notify = NotifyListener()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
           "NOTIFY_SOCKET": notify.path, "APPLIANCE_CONFIG": str(config.source),
           "PYTHONFAULTHANDLER": "1"}
    command = [sys.executable, "-m", "appliance", "importer"]
    log = open(tmp_path / "importer.log", "ab")  # noqa: SIM115
    service = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    target = config.importer.mount_root / "1234-ABCD"
    try:
        notify.wait_ready()
        loops.attach(image)
        buffer = config.folder("buffer")
        wait_for(lambda: copying(buffer, 8 << 20), 60, "the big file to be copying",
                 every=0.002)
        service.kill()
        service.wait(10)
        assert is_mounted(target), "the card should still be mounted after the crash"
        assert list(buffer.glob(f"{TEMP_PREFIX}*")), "the half-written temp file is gone?"
        service = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        notify.wait_ready()
        wait_for(lambda: finished(config, "1234-ABCD"), 60, "the resumed import")
        assert not is_mounted(target)
        store = Store(config.db_path)
        assert_all_imported(store, [*photos, big])
        assert_buffer_sound(config, store)
        states = [r["state"] for r in store.rows("SELECT state FROM imports ORDER BY id")]
        assert states == ["interrupted", "done"]
        store.close()
        service.send_signal(signal.SIGTERM)
        assert service.wait(20) == 0
    finally:
        if service.poll() is None:
            service.send_signal(signal.SIGABRT)  # faulthandler: every thread's stack to the log
            service.wait(10)
        log.close()
        notify.close()
        if is_mounted(target):
            subprocess.run(["fusermount", "-u", "-z", str(target)], capture_output=True)


def test_udev_properties_are_used_when_udevd_probed_the_device():
    """With udevd (the Pi) the filesystem comes from ID_FS_*; without it, from our own probe."""
    from appliance.ingest.block_devices import Filesystem, filesystem_of

    probed: list[str] = []

    def prober(node: str) -> Filesystem | None:
        probed.append(node)
        return Filesystem("vfat", "AAAA-0001", "PROBED")

    udev = BlockEvent("add", "/dev/sdb1", "sdb1", {"ID_FS_TYPE": "exfat", "ID_FS_UUID": "5F3A-1C2B",
                                                  "ID_FS_LABEL": "EOS_DIGITAL",
                                                  "ID_FS_USAGE": "filesystem"})
    assert filesystem_of(udev, prober) == Filesystem("exfat", "5F3A-1C2B", "EOS_DIGITAL")
    assert probed == []
    raid = BlockEvent("add", "/dev/sdc", "sdc", {"ID_FS_TYPE": "linux_raid_member",
                                                "ID_FS_USAGE": "raid"})
    assert filesystem_of(raid, prober) is None
    kernel = BlockEvent("add", "/dev/sdb1", "sdb1", {"DEVTYPE": "partition"})
    assert filesystem_of(kernel, prober).label == "PROBED" and probed == ["/dev/sdb1"]
