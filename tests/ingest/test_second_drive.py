"""The second-copy drive on a real loop device announced by the kernel: the card listener does not
import it, the second-copy listener mounts it read-write, copies land on it, pulling it is only a
warning and plugging it back in resumes. Skipped where loop devices or FUSE are unavailable."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support.cards import attach, detach, exfat_image, ext4_image, read_only_flag, require_card_images
from support.config import write_local_config
from support.files import sha256
from support.polling import wait_for
from support.publications import import_samples

from appliance.config import load
from appliance.ingest.block_devices import BlockEvent, Filesystem
from appliance.ingest.cards import CardManager
from appliance.ingest.mounts import is_mounted
from appliance.ingest.second_drive import SecondDrive, is_second_drive
from appliance.store import open_store
from appliance.sync.second_copy import SecondCopier
from appliance.sync.second_copy_targets import DRIVE_FOLDER, DriveTarget


@pytest.fixture
def loops():
    require_card_images()
    attached: list[str] = []
    yield attached
    for loop in attached:
        detach(loop)


def test_the_label_decides_case_insensitively(tmp_path):
    config = load(write_local_config(tmp_path, '[second_copy]\ndrive_label = "Backup"'))
    assert is_second_drive(Filesystem("exfat", "1-2", "BACKUP"), config)
    assert not is_second_drive(Filesystem("exfat", "1-2", "EOS_DIGITAL"), config)
    assert not is_second_drive(Filesystem("exfat", "1-2", ""), load(write_local_config(tmp_path)))


@pytest.mark.parametrize("kind", ["ext4", "exfat"])
def test_labelled_drive_is_mounted_read_write_not_imported(tmp_path, samples, loops, kind):
    (tmp_path / "images").mkdir()
    config = load(write_local_config(tmp_path, """
[importer]
mount_root = "cards"
card_images = "images"

[second_copy]
drive_label = "BACKUP"
mount_point = "second-copy"
"""))
    tree = tmp_path / "tree" / "DCIM" / "100CANON"  # a DCIM folder: a card would be imported
    tree.mkdir(parents=True)
    (tree / "IMG_0001.JPG").write_bytes((samples / "gps" / "DSCN0010.jpg").read_bytes())
    label = "backup" if kind == "exfat" else "BACKUP"
    image = (exfat_image if kind == "exfat" else ext4_image)(
        config.importer.card_images / "backup.img", tmp_path / "tree", label=label)
    store = open_store(config)
    ids = import_samples(config, store, samples, ["DSCN0012.jpg", "DSCN0021.jpg"])
    cards, drive = CardManager(config), SecondDrive(config)
    target = config.second_copy.mount_point
    copier = SecondCopier(config, store, [DriveTarget(config, lambda: drive.present,
                                                      lambda: drive.problem)])
    try:
        cards.start()
        drive.start()
        loop = attach(image)
        loops.append(loop)

        def settle() -> bool:
            cards.poll(0.05)
            drive.poll(0.05)
            return drive.present and loop in cards.outcomes

        wait_for(settle, 30, "the drive mounted", every=0)
        assert cards.outcomes[loop] == "second-copy drive, not a card"
        assert store.scalar("SELECT COUNT(*) FROM cards") == 0
        assert store.scalar("SELECT COUNT(*) FROM photos") == len(ids), "the drive was imported"
        assert not read_only_flag(loop)
        assert copier.step() == len(ids)
        copies = [p for p in (target / DRIVE_FOLDER).rglob("*.jpg")]
        assert len(copies) == len(ids) and all(p.stem == sha256(p) for p in copies)

        # pulled: udev's "remove" (a loop device stays while mounted, so the event is handed in),
        # then the device really goes; a warning, the copier waits
        drive.handle(BlockEvent("remove", loop, Path(loop).name))
        assert not is_mounted(target) and not drive.present
        detach(loop)
        loops.remove(loop)
        import_samples(config, store, samples, ["DSCN0025.jpg"])
        assert copier.step() == 0
        (row,) = store.second_copy_targets()
        assert (row["problem"], row["pending"]) == ("drive BACKUP missing", 1)

        loop = attach(image)  # plugged back in: only the new photo is copied
        loops.append(loop)
        wait_for(lambda: drive.poll(0.05) or drive.present, 30, "the drive back", every=0)
        assert copier.step() == 1
        (row,) = store.second_copy_targets()
        assert (row["problem"], row["done"], row["pending"]) == (None, len(ids) + 1, 0)
    finally:
        drive.stop()
        cards.stop()
        store.close()
        if is_mounted(target):
            subprocess.run(["umount", "-l", str(target)], capture_output=True)
    assert not is_mounted(target)

