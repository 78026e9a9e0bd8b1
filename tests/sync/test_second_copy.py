"""The second copy of the originals: a folder standing in for the second drive, the second bucket
prefix on the moto server over HTTP, a missing drive, a damaged copy, a copier killed mid-file, and
the counts the doctor and the admin show."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.cards import raw_standin
from support.config import bucket_config
from support.files import sha256
from support.polling import wait_for
from support.publications import import_samples, publish_many

from appliance.config import Config
from appliance.device.doctor import check_second_copy
from appliance.ingest.importer import Importer
from appliance.ingest.verified_copy import TEMP_PREFIX
from appliance.store import Store, open_store
from appliance.sync.second_copy import SecondCopier, summary_line
from appliance.sync.second_copy_service import copy_once, targets_for
from appliance.sync.second_copy_targets import DRIVE_FOLDER
from appliance.sync.syncer import Syncer

REPO = Path(__file__).resolve().parents[2]


def drive_config(tmp_path: Path, moto_url: str, bucket: str, more: str = "") -> Config:
    return bucket_config(tmp_path, moto_url, bucket, f'[second_copy]\nfolder = "backup"\n{more}')


def originals(store: Store) -> dict[str, str]:
    """sha256 -> where the copy goes (buffer/ab/<sha>.jpg, archive/ab/<sha>.cr2)."""
    rows = store.rows("SELECT sha256, 'buffer/' || buffer_path AS p FROM photos UNION ALL "
                      "SELECT sha256, 'archive/' || archive_path FROM raw_files")
    return {r["sha256"]: r["p"] for r in rows}


def import_with_raw(config: Config, store: Store, samples: Path, names: list[str]) -> dict[str, str]:
    """The named samples plus a RAW file paired with the first; returns :func:`originals`."""
    import_samples(config, store, samples, names)
    card = config.folder("state").parent / "card-raw"
    card.mkdir()
    shutil.copy(samples / "gps" / names[0], card / "IMG_0001.JPG")
    raw_standin(card / "IMG_0001.CR2", "second-copy-raw")
    Importer(config, store).import_tree(card)
    found = originals(store)
    assert any(p.startswith("archive/") for p in found.values())
    return found


def copier_for(config: Config, store: Store) -> SecondCopier:
    targets, _ = targets_for(config)
    return SecondCopier(config, store, targets)


def assert_drive_holds(config: Config, expected: dict[str, str]) -> None:
    """Every original is on the drive with its exact bytes; nothing else, nothing partial."""
    root = config.second_copy.folder / DRIVE_FOLDER
    files = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    assert files == set(expected.values()), files ^ set(expected.values())
    for sha, rel in expected.items():
        assert sha256(root / rel) == sha, rel


def test_drive_folder_gets_every_original_verified(tmp_path, moto_url, bucket, samples):
    config = drive_config(tmp_path, moto_url, bucket)
    config.second_copy.folder.mkdir()
    store = open_store(config)
    expected = import_with_raw(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg", "DSCN0021.jpg"])
    copier = copier_for(config, store)
    assert copier.step() == len(expected) == 4
    assert_drive_holds(config, expected)
    assert copier.step() == 0  # nothing twice
    (row,) = store.second_copy_targets()
    assert (row["done"], row["total"], row["pending"], row["available"]) == (4, 4, 0, 1)
    assert summary_line(row) == f"second copy (drive {config.second_copy.folder}): 4 / 4, 0 pending"
    # a new card later: only the new photo is copied
    import_samples(config, store, samples, ["DSCN0025.jpg"])
    assert copier.step() == 1
    assert_drive_holds(config, originals(store))


def test_damaged_copy_is_found_and_redone(tmp_path, moto_url, bucket, samples):
    config = drive_config(tmp_path, moto_url, bucket)
    config.second_copy.folder.mkdir()
    store = open_store(config)
    expected = import_with_raw(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg"])
    copier = copier_for(config, store)
    copier.step()
    root = config.second_copy.folder / DRIVE_FOLDER
    rot, gone = sorted(expected.values())[:2]
    data = bytearray((root / rot).read_bytes())
    data[len(data) // 2] ^= 0xFF  # a flipped bit: same size, so only a read-back finds it
    (root / rot).write_bytes(bytes(data))
    assert copier.step() == 0, "copies are read back only when due (second_copy.recheck_days)"
    store.conn.execute("UPDATE second_copies SET checked_ts = 0")  # a week later
    copier.step()  # reads back, finds the damage, forgets that copy
    assert copier.step() == 1
    assert_drive_holds(config, expected)
    # a copy deleted on the drive: found when the drive comes back (a quick size check)
    (root / gone).unlink()
    shutil.move(config.second_copy.folder, tmp_path / "unplugged")
    assert copier.step() == 0
    shutil.move(tmp_path / "unplugged", config.second_copy.folder)
    assert copier.step() == 1
    assert_drive_holds(config, expected)


def test_a_damaged_or_missing_first_copy_is_reported_not_spread(tmp_path, moto_url, bucket, samples):
    config = drive_config(tmp_path, moto_url, bucket)
    config.second_copy.folder.mkdir()
    store = open_store(config)
    expected = import_with_raw(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg", "DSCN0021.jpg"])
    (bad_sha, bad), (gone_sha, gone) = [(s, p) for s, p in expected.items() if p.startswith("buffer/")][:2]
    path = config.folder("buffer") / bad.removeprefix("buffer/")
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    (config.folder("buffer") / gone.removeprefix("buffer/")).unlink()
    copier = copier_for(config, store)
    assert copier.step() == len(expected) - 2
    assert copier.step() == 0  # not tried again and again
    (row,) = store.second_copy_targets()
    assert row["pending"] == 2 and row["available"] == 1
    assert row["last_error"] in (f"{path} does not match its sha256 any more",
                                 f"{config.folder('buffer') / gone.removeprefix('buffer/')} is missing")
    del expected[bad_sha], expected[gone_sha]
    assert_drive_holds(config, expected)


def test_missing_drive_is_a_warning_and_publishing_goes_on(tmp_path, moto_url, bucket, samples, s3):
    config = drive_config(tmp_path, moto_url, bucket, 'drive_label = "BACKUP"')
    store = open_store(config)
    ids = import_samples(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg"])
    copier = copier_for(config, store)
    assert copier.step() == 0
    (row,) = store.second_copy_targets()
    assert row["available"] == 0 and row["problem"] == f"drive folder {config.second_copy.folder} missing"
    (finding,) = check_second_copy(config)
    assert finding.level == "warn" and finding.message == (
        "second copy (drive BACKUP): 0 / 2, 2 pending — "
        f"drive folder {config.second_copy.folder} missing")
    # publishing is not held up by the missing drive
    pubs = publish_many(config, store, ids[:1])
    assert pubs[0]["state"] == "published"
    assert Syncer(config, store).drain_once() == 0
    assert s3.head_object(Bucket=bucket, Key=f"events/wedding/photos/{pubs[0]['name']}.jpg")
    # the drive is back: the copy resumes
    config.second_copy.folder.mkdir()
    assert copier.step() == 2
    (finding,) = check_second_copy(config)
    assert finding.level == "ok" and finding.message == "second copy (drive BACKUP): 2 / 2, 0 pending"


def test_the_copy_waits_while_a_photo_is_being_published(tmp_path, moto_url, bucket, samples):
    from appliance.publish.worker import Publisher

    config = drive_config(tmp_path, moto_url, bucket)
    config.second_copy.folder.mkdir()
    store = open_store(config)
    ids = import_samples(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg"])
    publisher = Publisher(config, store)
    pub_id = publisher.request(ids[0], {})
    copier = copier_for(config, store)
    assert copier.step() == 0, "a queued publication goes first"
    claimed = store.claim_publication(pub_id)
    assert copier.step() == 0, "and while it renders"
    publisher.process(claimed)
    assert copier.step() == 2


def test_bucket_prefix_copy_confirmed_against_moto(tmp_path, moto_url, bucket, samples, s3):
    config = bucket_config(tmp_path, moto_url, bucket, '[second_copy]\nbucket_prefix = "originals"')
    store = open_store(config)
    expected = import_with_raw(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg"])
    copier = copier_for(config, store)
    assert copier.step() == len(expected)
    for sha, rel in expected.items():
        local = (config.folder(rel.split("/")[0]) / rel.split("/", 1)[1]).read_bytes()
        head = s3.head_object(Bucket=bucket, Key=f"originals/{rel}")
        assert head["ContentLength"] == len(local) and head["Metadata"]["sha256"] == sha
        assert head["ETag"].strip('"') == hashlib.md5(local).hexdigest()
        body = s3.get_object(Bucket=bucket, Key=f"originals/{rel}")["Body"].read()
        assert hashlib.sha256(body).hexdigest() == sha
    (row,) = store.second_copy_targets()
    assert (row["target"], row["done"], row["pending"]) == ("bucket", len(expected), 0)
    # an object lost from the bucket is found by the periodic check and uploaded again
    lost = sorted(expected.values())[0]
    s3.delete_object(Bucket=bucket, Key=f"originals/{lost}")
    store.conn.execute("UPDATE second_copies SET checked_ts = 0")
    copier.step()
    assert copier.step() == 1
    assert s3.head_object(Bucket=bucket, Key=f"originals/{lost}")["ContentLength"] > 0


def test_unreachable_bucket_is_a_warning(tmp_path, samples):
    from support.services import free_port

    config = bucket_config(tmp_path, f"http://127.0.0.1:{free_port()}", "nowhere",
                           '[second_copy]\nbucket_prefix = "originals"')
    store = open_store(config)
    import_samples(config, store, samples, ["DSCN0010.jpg"])
    assert copier_for(config, store).step() == 0
    (row,) = store.second_copy_targets()
    assert row["available"] == 0 and row["problem"].startswith("bucket unreachable")
    (finding,) = check_second_copy(config)
    assert finding.level == "warn" and "0 / 1, 1 pending" in finding.message


def test_killed_mid_copy_leaves_nothing_partial_and_resumes(tmp_path, moto_url, bucket, samples):
    config = drive_config(tmp_path, moto_url, bucket, "poll_seconds = 0.1")
    drive = config.second_copy.folder
    drive.mkdir()
    store = open_store(config)
    import_samples(config, store, samples, ["DSCN0010.jpg"])
    card = tmp_path / "big"
    card.mkdir()
    for n in (1, 2):  # two big RAW files: the copier is killed inside one of them
        shutil.copy(samples / "gps" / "DSCN0012.jpg", card / f"IMG_000{n}.JPG")
        (card / f"IMG_000{n}.JPG").write_bytes((card / f"IMG_000{n}.JPG").read_bytes() + bytes([n]))
        raw_standin(card / f"IMG_000{n}.CR2", f"big-{n}", 96 << 20)
    Importer(config, store).import_tree(card)
    expected = originals(store)
    env = {**os.environ, "PYTHONPATH": str(REPO), "APPLIANCE_CONFIG": str(config.source)}
    log = open(tmp_path / "second-copy.log", "ab")  # noqa: SIM115
    service = subprocess.Popen([sys.executable, "-m", "appliance", "second-copy"], env=env,
                               stdout=log, stderr=log)
    root = drive / DRIVE_FOLDER

    def big_temp() -> bool:
        return any(p.stat().st_size > 8 << 20 for p in root.glob(f"{TEMP_PREFIX}*") if p.exists())

    try:
        wait_for(big_temp, 120, "a big file being copied", every=0.002, ignoring=(FileNotFoundError,))
        service.send_signal(signal.SIGKILL)
        service.wait(10)
    finally:
        if service.poll() is None:
            service.kill()
    done = {r["sha256"] for r in store.rows("SELECT sha256 FROM second_copies")}
    assert len(done) < len(expected)
    for path in root.rglob("*"):
        if path.is_file() and not path.name.startswith(TEMP_PREFIX):
            assert path.stem == sha256(path) and path.stem in done, f"{path} is partial or unrecorded"
    assert list(root.glob(f"{TEMP_PREFIX}*")), "the killed copy's temp file should be there"
    made, summary = copy_once(config, store)  # a restart resumes
    assert made == len(expected) - len(done)
    assert summary.endswith(f"{len(expected)} / {len(expected)}, 0 pending")
    assert_drive_holds(config, expected)  # and the temp file is gone


def test_service_runs_idle_and_reports(tmp_path, moto_url, bucket, samples):
    """`appliance second-copy` as a process: SCHED_IDLE, copies, STATUS-like summary, clean stop."""
    config = drive_config(tmp_path, moto_url, bucket, "poll_seconds = 0.1")
    config.second_copy.folder.mkdir()
    store = open_store(config)
    expected = import_with_raw(config, store, samples, ["DSCN0010.jpg"])
    env = {**os.environ, "PYTHONPATH": str(REPO), "APPLIANCE_CONFIG": str(config.source)}
    service = subprocess.Popen([sys.executable, "-m", "appliance", "second-copy"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: store.second_copy_counts("drive")["pending"] == 0, 120, "the copies (idle priority)")
        assert os.sched_getscheduler(service.pid) == os.SCHED_IDLE
        service.send_signal(signal.SIGTERM)
        assert service.wait(20) == 0
    finally:
        if service.poll() is None:
            service.kill()
    assert_drive_holds(config, expected)
    assert store.get_setting("service:second-copy")["state"] == "stopped"


@pytest.mark.parametrize("as_json", [False, True])
def test_admin_status_and_cli_status_show_the_counts(tmp_path, moto_url, bucket, samples, as_json,
                                                      capsys):
    from appliance import cli

    config = drive_config(tmp_path, moto_url, bucket, 'drive_label = "BACKUP"')
    config.second_copy.folder.mkdir()
    store = open_store(config)
    import_samples(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg"])
    copier_for(config, store).step()
    import_samples(config, store, samples, ["DSCN0021.jpg"])
    assert cli.main(["--config", str(config.source), "status", *(["--json"] if as_json else [])]) == 0
    out = capsys.readouterr().out
    if as_json:
        import json

        (row,) = json.loads(out)["second_copy"]
        assert (row["done"], row["total"], row["pending"]) == (2, 3, 1)
    else:
        assert "second copy (drive BACKUP): 2 / 3, 1 pending" in out


def test_admin_status_shows_the_counts(tmp_path, moto_url, bucket, samples):
    from support.sessions import login

    from appliance.admin import create_app

    config = drive_config(tmp_path, moto_url, bucket, 'drive_label = "BACKUP"')
    store = open_store(config)
    import_samples(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg"])
    copier = copier_for(config, store)
    copier.step()  # the drive is missing
    client = create_app(config).test_client()
    login(client)
    (row,) = client.get("/api/status").get_json()["second_copy"]
    assert (row["target"], row["name"], row["done"], row["total"], row["pending"]) == (
        "drive", "BACKUP", 0, 2, 2)
    assert row["available"] == 0 and row["problem"].endswith("missing")
    config.second_copy.folder.mkdir()
    copier.step()
    (row,) = client.get("/api/status").get_json()["second_copy"]
    assert (row["done"], row["pending"], row["available"], row["problem"]) == (2, 0, 1, None)
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'appliance_second_copy_pending{target="drive"} 0.0' in metrics
    assert 'appliance_second_copy_available{target="drive"} 1.0' in metrics


def test_a_full_drive_is_a_warning_and_leaves_nothing_partial(tmp_path, moto_url, bucket, samples):
    """A real small filesystem (tmpfs) as the drive: the copies that fit are made, the rest wait."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    config = drive_config(tmp_path, moto_url, bucket, 'drive_label = "BACKUP"')
    drive = config.second_copy.folder
    drive.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(drive)], check=True)
    try:
        store = open_store(config)
        import_samples(config, store, samples, ["DSCN0010.jpg", "DSCN0012.jpg", "DSCN0021.jpg"])
        copier = copier_for(config, store)
        copier.retry_seconds = 0.3
        assert copier.step() == 2  # 3 x ~155 KB on 400 KB
        (row,) = store.second_copy_targets()
        assert (row["available"], row["pending"]) == (0, 1)
        assert row["problem"] == "BACKUP: drive BACKUP is full"
        root = drive / DRIVE_FOLDER
        assert not list(root.glob(f"{TEMP_PREFIX}*")), "a partial copy was left behind"
        for path in (p for p in root.rglob("*") if p.is_file()):
            assert path.stem == sha256(path)
        assert copier.step() == 0, "a failed target waits before it is tried again"
        time.sleep(0.4)
        assert copier.step() == 0  # still full: tried again, the warning stays
        assert store.second_copy_targets()[0]["problem"] == "BACKUP: drive BACKUP is full"
        subprocess.run(["mount", "-o", "remount,size=1m", str(drive)], check=True)  # room made
        time.sleep(0.4)
        assert copier.step() == 1
        (row,) = store.second_copy_targets()
        assert (row["available"], row["problem"], row["pending"]) == (1, None, 0)
    finally:
        subprocess.run(["umount", str(drive)], check=True)


def test_second_copy_once_from_the_command_line(tmp_path, moto_url, bucket, samples):
    config = drive_config(tmp_path, moto_url, bucket, 'drive_label = "BACKUP"')
    config.second_copy.folder.mkdir()
    store = open_store(config)
    expected = import_with_raw(config, store, samples, ["DSCN0010.jpg"])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "appliance", "--config", str(config.source), "second-copy", "--once"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "2 copied; second copy (drive BACKUP): 2 / 2, 0 pending"
    assert_drive_holds(config, expected)
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.stdout.startswith("0 copied;")
