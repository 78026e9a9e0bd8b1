"""Card ingest with folders standing in for mounted cards: identity, skips, RAW, metadata, progress,
interruption and resume. Real SQLite store, real camera JPEGs, real files; nothing patched."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from PIL import Image
from support.buffer import assert_all_imported, assert_buffer_sound
from support.cards import gps_card, messy_card, raw_standin, two_cameras
from support.files import sha256
from support.images import stamped_jpeg

from appliance.ingest import progress
from appliance.ingest.hotfolder import FolderWatcher
from appliance.ingest.importer import Importer
from appliance.ingest.scan import JPEG_MAGIC, capture_sort_time, classify
from appliance.ingest.verified_copy import TEMP_PREFIX, clean_stale_temps
from appliance.store import Store


def test_two_cameras_with_the_same_names_never_collide(config, store, samples, tmp_path):
    card_a, card_b = two_cameras(tmp_path, samples)
    importer = Importer(config, store)
    ra = importer.import_card(card_a)
    rb = importer.import_card(card_b)
    assert len(ra.imported) == 2 and len(rb.imported) == 2
    sources = sorted(card_a.rglob("*.JPG")) + sorted(card_b.rglob("*.JPG"))
    assert_all_imported(store, sources)
    names = [r["original_name"] for r in store.rows("SELECT original_name FROM photos")]
    assert sorted(names) == ["IMG_0001.JPG", "IMG_0001.JPG", "IMG_0002.JPG", "IMG_0002.JPG"]
    assert_buffer_sound(config, store)


@pytest.mark.parametrize("workers", [1, 8])
def test_photos_are_recorded_in_the_cards_order_however_the_copies_finish(
        config, samples, tmp_path, workers):
    """A big first file finishes copying last with 8 copy threads; the records keep card order."""
    folder = tmp_path / "card" / "DCIM" / "100"
    folder.mkdir(parents=True)
    photos = sorted(samples.rglob("*.jpg"), key=lambda p: p.stat().st_size)
    big = photos[-1]
    shutil.copy2(big, folder / "A_0000.jpg")
    for n, photo in enumerate(p for p in photos[:12] if p != big):
        shutil.copy2(photo, folder / f"B_{n:04d}.jpg")
    config = dataclasses.replace(
        config, importer=dataclasses.replace(config.importer, copy_workers=workers))
    store = Store(config.db_path)
    report = Importer(config, store).import_card(tmp_path / "card")
    sources = sorted(folder.iterdir())
    assert report.state == "done" and len(report.imported) == len(sources)
    recorded = [r["original_name"] for r in store.rows("SELECT original_name FROM photos ORDER BY id")]
    assert recorded == [p.name for p in sources]
    assert_all_imported(store, sources)
    assert_buffer_sound(config, store)
    store.close()


def test_thumbnails_are_made_on_idle_cpu_only(config, store, samples, tmp_path, monkeypatch):
    """The copy (the card's safety) comes first: thumbnail threads are SCHED_IDLE."""
    from appliance.imaging import pipeline

    policies: list[int] = []
    real = pipeline.thumbnail_from_original

    def observed(*args, **kwargs):
        policies.append(os.sched_getscheduler(0))
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "thumbnail_from_original", observed)
    card, _ = two_cameras(tmp_path, samples)
    report = Importer(config, store).import_card(card)
    assert len(report.imported) == 2 and policies == [os.SCHED_IDLE, os.SCHED_IDLE]
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the caller's own thread is untouched


def test_each_photo_is_recorded_once_ready_not_after_the_last_thumbnail(config, store, samples, tmp_path,
                                                                        monkeypatch):
    """Thumbnails made after the copy: each photo is recorded as soon as it (and every photo before
    it) is ready, while a later one is still being made (the admin and an auto-publish rule see the
    first frames of a card at once). The last thumbnail is held until the first photos are seen."""
    from appliance.imaging import pipeline

    card, _ = two_cameras(tmp_path, samples)
    shutil.copy2(samples / "gps" / "DSCN0040.jpg", card / "DCIM" / "100CANON" / "IMG_0003.JPG")
    copied, seen, real = threading.Event(), threading.Event(), pipeline.thumbnail_from_original

    def held(path, dest, edge=400):
        assert copied.wait(30), "the copy never finished"
        if path.read_bytes() == (samples / "gps" / "DSCN0040.jpg").read_bytes():
            seen.wait(30)  # the last frame's thumbnail: until the others are recorded
        return real(path, dest, edge)

    monkeypatch.setattr(pipeline, "thumbnail_from_original", held)

    def look() -> None:  # another service (the publisher), looking meanwhile
        other = Store(config.db_path)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not seen.is_set():
            if other.scalar("SELECT COUNT(*) FROM photos") == 2:
                seen.set()
            time.sleep(0.02)
        other.close()

    watcher = threading.Thread(target=look)
    watcher.start()
    report = Importer(config, store).import_card(card, after_copy=lambda _: copied.set())
    watcher.join()
    assert seen.is_set() and len(report.imported) == 3
    assert_buffer_sound(config, store)


def test_reinserting_a_card_imports_only_new_photos(config, store, samples, tmp_path):
    card, _ = two_cameras(tmp_path, samples)
    importer = Importer(config, store)
    importer.import_card(card)
    shutil.copy2(samples / "gps" / "DSCN0040.jpg", card / "DCIM" / "100CANON" / "IMG_0003.JPG")
    buffer_files = sorted(config.folder("buffer").rglob("*.jpg"))
    report = importer.import_card(card)
    assert len(report.imported) == 1 and len(report.duplicates) == 2
    assert len(sorted(config.folder("buffer").rglob("*.jpg"))) == len(buffer_files) + 1
    assert store.scalar("SELECT COUNT(*) FROM photos") == 3
    assert_buffer_sound(config, store)


def test_skips_are_counted_with_reasons_and_nothing_crashes(config, store, samples, tmp_path):
    card = tmp_path / "messy"
    expected = messy_card(card, samples)
    report = Importer(config, store).import_card(card)
    assert report.state == "done" and not report.errors
    assert [Path(p).name for p in report.imported] == ["IMG_0100.JPG"]
    got = {str(Path(p).relative_to(card)): reason for reason, paths in report.skipped.items()
           for p in paths}
    assert got == expected
    assert store.scalar("SELECT COUNT(*) FROM photos") == 1
    row = store.row("SELECT * FROM imports WHERE id = ?", (report.import_id,))
    saved = json.loads(row["report"])
    assert saved["skipped"]["corrupt or truncated JPEG"] == 1 and row["skipped"] == len(expected)
    assert_buffer_sound(config, store)  # the truncated copy did not stay in the buffer


def test_raw_files_go_to_the_archive_paired_by_base_name(config, store, samples, tmp_path):
    card = tmp_path / "card"
    folder = card / "DCIM" / "100CANON"
    folder.mkdir(parents=True)
    shutil.copy2(samples / "gps" / "DSCN0010.jpg", folder / "IMG_0001.JPG")
    raw_standin(folder / "IMG_0001.CR3", "one")
    raw_standin(folder / "img_0002.nef", "two")  # RAW only (JPEG shot to another card)
    # a second camera with the same RAW name must not pair with the first camera's JPEG
    raw_standin(card / "DCIM" / "101NIKON" / "IMG_0001.NEF", "three")
    importer = Importer(config, store)
    report = importer.import_card(card)
    assert len(report.imported) == 1 and len(report.raw_archived) == 3
    photo_id = store.scalar("SELECT id FROM photos")
    paired = {r["original_name"]: r["photo_id"] for r in store.rows("SELECT * FROM raw_files")}
    assert paired == {"IMG_0001.CR3": photo_id, "img_0002.nef": None, "IMG_0001.NEF": None}
    # the JPEG of img_0002 arrives later (second card, same folder layout): pairs on arrival
    shutil.copy2(samples / "gps" / "DSCN0012.jpg", folder / "IMG_0002.JPG")
    report = importer.import_card(card)
    assert report.paired == 1 and len(report.imported) == 1 and len(report.duplicates) == 4
    second = store.scalar("SELECT id FROM photos WHERE original_name = 'IMG_0002.JPG'")
    assert store.scalar("SELECT photo_id FROM raw_files WHERE original_name = 'img_0002.nef'") == second
    assert_buffer_sound(config, store)


def test_metadata_at_import(config, store, samples, tmp_path):
    card = tmp_path / "card" / "DCIM" / "100EOS"
    stamped_jpeg(samples / "gps" / "DSCN0025.jpg", card / "A.JPG", "2024:06:01 14:03:07", "42",
                 "+02:00", "Canon", "EOS R6")
    shutil.copy2(samples / "orientation" / "portrait_6.jpg", card / "B.JPG")
    no_exif = card / "C.JPG"
    shutil.copy2(samples / "orientation" / "landscape_1.jpg", no_exif)
    os.utime(no_exif, ns=(1_700_000_000_250_000_000,) * 2)
    Importer(config, store).import_card(tmp_path / "card")
    rows = {r["original_name"]: r for r in store.rows("SELECT * FROM photos")}
    a, b, c = rows["A.JPG"], rows["B.JPG"], rows["C.JPG"]
    assert a["capture_time"] == "2024-06-01T14:03:07.420+02:00"
    assert (a["camera_make"], a["camera_model"]) == ("Canon", "EOS R6")
    assert (b["orientation"], b["width"], b["height"]) == (6, 450, 600)
    expected_c = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(1_700_000_000)) + ".250"
    assert c["capture_time"] == expected_c  # no EXIF: the file's time
    # thumbnails: ~400 px long edge with the EXIF orientation applied (portrait stays portrait)
    thumbs = config.folder("state") / "thumbs"
    with Image.open(thumbs / b["thumb_path"]) as thumb:
        assert max(thumb.size) == 400 and thumb.height > thumb.width
        assert thumb.getexif().get(0x0112, 1) == 1
    with Image.open(thumbs / a["thumb_path"]) as thumb:
        assert max(thumb.size) == 400


def test_buffer_sorts_by_capture_time_across_cameras(config, store, samples, tmp_path):
    sample = samples / "gps" / "DSCN0027.jpg"
    stamped_jpeg(sample, tmp_path / "a" / "DCIM" / "1" / "IMG_0001.JPG", "2024:06:01 14:00:00",
                 "5", None, "Canon", "R6")
    stamped_jpeg(sample, tmp_path / "a" / "DCIM" / "1" / "IMG_0002.JPG", "2024:06:01 14:00:02",
                 None, None, "Canon", "R6")
    stamped_jpeg(sample, tmp_path / "b" / "DCIM" / "1" / "DSC_0001.JPG", "2024:06:01 14:00:01",
                 "999", "+02:00", "NIKON", "Z6")
    stamped_jpeg(sample, tmp_path / "b" / "DCIM" / "1" / "DSC_0002.JPG", "2024:06:01 14:00:00",
                 "75", "+02:00", "NIKON", "Z6")
    importer = Importer(config, store)
    importer.import_card(tmp_path / "a")
    importer.import_card(tmp_path / "b")
    order = [r["original_name"] for r in store.buffer_page(limit=10)]
    assert order == ["IMG_0002.JPG", "DSC_0001.JPG", "DSC_0002.JPG", "IMG_0001.JPG"]


def test_capture_sort_time_formats():
    assert capture_sort_time("2024-06-01T14:00:00", 0) == "2024-06-01T14:00:00.000"
    assert capture_sort_time("2024-06-01T14:00:00.5", 0) == "2024-06-01T14:00:00.5"
    assert capture_sort_time("2024-06-01T14:00:00.120-05:00", 0) == "2024-06-01T14:00:00.120-05:00"
    assert capture_sort_time("2024-06-01T14:00:00+01:00", 0) == "2024-06-01T14:00:00.000+01:00"


def test_classify_any_case():
    for name in ("a.jpg", "A.JPG", "b.Jpeg", "c.JPEG"):
        assert classify(Path(name)) == ("jpeg", None)
    for name in ("x.CR2", "x.cr3", "x.NEF", "x.ARW", "x.RAF", "x.ORF", "x.RW2", "x.DNG"):
        assert classify(Path(name)) == ("raw", None)
    for name in ("x.HEIC", "x.heif", "x.HIF"):
        assert classify(Path(name)) == ("heif", None)


def test_progress_is_in_the_store(config, store, samples, tmp_path):
    card = tmp_path / "card"
    folder = gps_card(card, samples)
    last = sorted(folder.iterdir())[-1].name  # copied last: only 8 files are copied at once
    seen: list[dict] = []
    reader = Store(config.db_path)  # another connection, as the admin or the LEDs would read it
    local = threading.local()  # the hook runs in the copy threads: a connection for each

    def on_chunk(path: Path, n: int) -> None:
        """The last file waits here until another connection sees files done (a slow card)."""
        if path.name != last or seen:
            return
        local.store = getattr(local, "store", None) or Store(config.db_path)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if (rows := progress.running_imports(local.store)) and rows[0]["files_done"] >= 1:
                seen.append(rows[0])
                return
            time.sleep(0.01)

    import appliance.ingest.import_run as import_run

    old, import_run.PROGRESS_EVERY_S = import_run.PROGRESS_EVERY_S, 0.0
    try:
        report = Importer(config, store).import_card(card, on_chunk=on_chunk)
    finally:
        import_run.PROGRESS_EVERY_S = old
    total = sum(p.stat().st_size for p in folder.iterdir())
    assert seen, "no live progress was visible to another connection"
    live = seen[-1]
    assert live["state"] == "running" and live["files_total"] == 9 and live["bytes_total"] == total
    assert 1 <= live["files_done"] < 9 and 0 < live["bytes_done"] <= total
    assert live["eta_s"] is not None and live["mb_per_s"] > 0
    assert live["current_file"].endswith(".jpg")
    final = progress.recent_imports(reader)[0]
    assert final["id"] == report.import_id and final["state"] == "done"
    assert (final["files_done"], final["bytes_done"], final["percent"]) == (9, total, 100.0)
    assert final["report"]["imported"] == 9 and final["eta_s"] == 0.0
    reader.close()


def test_progress_never_goes_back_when_an_import_stops(config, store, tmp_path):
    """Bytes read from a file the import stopped in stay counted (the bar must not jump back)."""
    folder = tmp_path / "card" / "DCIM" / "100"
    folder.mkdir(parents=True)
    for i in range(4):
        (folder / f"IMG_{i}.jpg").write_bytes(JPEG_MAGIC + os.urandom(1_500_000 + i))
    written: list[int] = []
    real = store.update_import

    def spy(import_id: int, **fields) -> None:
        if "bytes_done" in fields:
            written.append(fields["bytes_done"])
        real(import_id, **fields)

    abort = threading.Event()

    def slow_card(path: Path, n: int) -> None:
        time.sleep(0.01)  # the main thread publishes progress meanwhile
        if path.name == "IMG_3.jpg" and n >= 3 * (1 << 18):
            abort.set()

    import appliance.ingest.import_run as import_run

    store.update_import = spy
    old, import_run.PROGRESS_EVERY_S = import_run.PROGRESS_EVERY_S, 0.0
    try:
        report = Importer(config, store).import_card(tmp_path / "card", abort=abort,
                                                     on_chunk=slow_card)
    finally:
        import_run.PROGRESS_EVERY_S = old
    assert report.state == "interrupted"
    assert len(written) > 3 and written == sorted(written), written
    assert written[-1] >= 3 * (1 << 18)


def test_interrupted_import_leaves_nothing_partial_and_resumes(config, store, samples, tmp_path):
    """A card pulled mid-file (the abort a udev 'remove' triggers): then inserted again."""
    card = tmp_path / "card"
    folder = gps_card(card, samples)
    abort = threading.Event()
    partial: list[Path] = []

    def pull_card(path: Path, n: int) -> None:
        if path.name == "DSCN0027.jpg" and not abort.is_set():
            partial.extend(config.folder("buffer").glob(f"{TEMP_PREFIX}*"))
            abort.set()

    importer = Importer(config, store)
    report = importer.import_card(card, abort=abort, on_chunk=pull_card)
    assert report.state == "interrupted" and "insert the card again" in report.message
    assert partial, "the temp file should have existed mid-copy"
    assert not any(p.exists() for p in partial)
    assert_buffer_sound(config, store)
    done_before = store.scalar("SELECT COUNT(*) FROM photos")
    assert 0 < done_before < 9
    report = importer.import_card(card)
    assert report.state == "done" and len(report.duplicates) == done_before
    assert len(report.imported) == 9 - done_before
    assert_all_imported(store, sorted(folder.iterdir()))
    assert_buffer_sound(config, store)


CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from appliance.config import load
    from appliance.ingest.importer import Importer
    from appliance.store import Store

    config = load(sys.argv[1])
    marker = Path(sys.argv[3])

    def stall(path, n):
        if path.name == "DSCN0027.jpg" and n > 0:
            marker.write_text(path.name)
            time.sleep(600)  # killed here, mid-file

    Importer(config, Store(config.db_path)).import_card(Path(sys.argv[2]), on_chunk=stall)
""")


def test_sigkill_mid_file_then_resume(config, samples, tmp_path):
    card = tmp_path / "card"
    folder = gps_card(card, samples)
    marker = tmp_path / "marker"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(config.source), str(card),
                              str(marker)], env=env)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None and time.monotonic() < deadline, "child never got there"
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGSTOP)  # frozen mid-file: look at the buffer, then kill
        temps = list(config.folder("buffer").glob(f"{TEMP_PREFIX}*"))
        assert any(t.stat().st_size > 0 for t in temps)  # the stalled file, part-written
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)
    store = Store(config.db_path)
    assert store.scalar("SELECT state FROM imports") == "running"  # as the crash left it
    recorded = store.scalar("SELECT COUNT(*) FROM photos")
    importer = Importer(config, store)  # start-up: cleans the stale temp, closes the dead import
    assert not list(config.folder("buffer").glob(f"{TEMP_PREFIX}*"))
    assert store.scalar("SELECT state FROM imports WHERE id = 1") == "interrupted"
    report = importer.import_card(card)
    assert report.state == "done"
    assert len(report.imported) + len(report.duplicates) == 9
    assert len(report.imported) == 9 - recorded
    assert_all_imported(store, sorted(folder.iterdir()))
    assert_buffer_sound(config, store)
    store.close()


def test_stale_temp_cleaner_spares_copies_in_progress(tmp_path):
    folder = tmp_path / "buffer"
    folder.mkdir()
    live = folder / f"{TEMP_PREFIX}live"
    dead = folder / f"{TEMP_PREFIX}dead"
    live.write_bytes(b"x" * 10)
    dead.write_bytes(b"y" * 10)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, sys, time
        f = open({str(live)!r}, 'rb'); fcntl.flock(f, fcntl.LOCK_EX)
        print('locked', flush=True); time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert clean_stale_temps(folder) == 1
        assert live.exists() and not dead.exists()
    finally:
        holder.kill()
        holder.wait()
    assert clean_stale_temps(folder) == 1 and not live.exists()
    with open(folder / "x", "wb") as handle:  # sanity: flock works on this filesystem
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_the_source_is_never_written(config, store, samples, tmp_path):
    card, _ = two_cameras(tmp_path, samples)
    before = {p: (sha256(p), p.stat().st_mtime_ns) for p in card.rglob("*") if p.is_file()}
    Importer(config, store).import_card(card)
    after = {p: (sha256(p), p.stat().st_mtime_ns) for p in card.rglob("*") if p.is_file()}
    assert before == after


def test_full_disk_fails_cleanly(config, store, samples, tmp_path):
    """A buffer on a tiny tmpfs: the import stops with a clear message, nothing partial remains."""
    config.ensure_folders()
    buffer = config.folder("buffer")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(buffer)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        gps_card(tmp_path / "card", samples)
        report = Importer(config, store).import_card(tmp_path / "card")
        assert report.state == "failed" and "full" in report.message
        assert 0 < len(report.imported) < 9
        assert_buffer_sound(config, store)
        report = Importer(config, store).import_card(tmp_path / "card")
        assert report.state == "failed" and not report.imported
    finally:
        subprocess.run(["umount", str(buffer)], check=True)


def test_hot_folder_waits_for_files_to_settle(config, store, samples):
    hot = config.importer.watch
    assert hot is not None
    watcher = FolderWatcher(Importer(config, store), hot, settle_seconds=0.4)
    source = (samples / "gps" / "DSCN0029.jpg").read_bytes()
    target = hot / "IMG_7001.JPG"
    reports = []
    with open(target, "wb") as out:  # a slow FTP upload: written in pieces
        for start in range(0, len(source), 16_384):
            out.write(source[start:start + 16_384])
            out.flush()
            if (report := watcher.scan()) is not None:
                reports.append(report)
            time.sleep(0.05)
    assert not reports, "a file still being written was imported"
    deadline = time.monotonic() + 10
    while (report := watcher.scan()) is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert [Path(p).name for p in report.imported] == ["IMG_7001.JPG"]
    assert store.scalar("SELECT sha256 FROM photos") == sha256(target)
    assert watcher.scan() is None  # not imported twice
    assert_buffer_sound(config, store)


def test_cli_import_json(config, samples, tmp_path):
    card, _ = two_cameras(tmp_path, samples)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run([sys.executable, "-m", "appliance", "--config", str(config.source),
                             "import", str(card), "--json"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["imported"] == 2 and summary["state"] == "done"


def test_importer_service_imports_the_hot_folder(config, samples):
    """`appliance importer` (udev listener and hot-folder thread) picks up a dropped file and
    stops cleanly on SIGTERM."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("NOTIFY_SOCKET", None)
    service = subprocess.Popen([sys.executable, "-m", "appliance", "--config", str(config.source),
                                "importer"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        hot = config.importer.watch
        shutil.copy(samples / "gps" / "DSCN0012.jpg", hot / "tether_0001.jpg")
        deadline = time.monotonic() + 30
        store = Store(config.db_path)
        while not store.scalar("SELECT COUNT(*) FROM photos"):
            assert service.poll() is None, service.stdout.read()
            assert time.monotonic() < deadline, "the hot folder file was never imported"
            time.sleep(0.1)
        assert store.scalar("SELECT sha256 FROM photos") == sha256(hot / "tether_0001.jpg")
        store.close()
    finally:
        service.send_signal(signal.SIGTERM)
        output = service.communicate(timeout=20)[0]
    assert service.returncode == 0, output
    assert "listening for cards" in output


def test_a_folder_that_cannot_be_listed_is_not_a_finished_import(config, store, samples, tmp_path):
    """The card goes away while its folders are listed: what was listed is imported, and the
    import says it is unfinished instead of 'done'."""
    from appliance.ingest.scan import walk

    card = tmp_path / "card"
    for folder, photo in (("100CANON", "DSCN0010.jpg"), ("101CANON", "DSCN0012.jpg")):
        (card / "DCIM" / folder).mkdir(parents=True)
        shutil.copy2(samples / "gps" / photo, card / "DCIM" / folder / photo)

    def listing_that_breaks():  # noqa: ANN202
        for entry in walk(card / "DCIM"):
            yield entry
            shutil.rmtree(card / "DCIM" / "101CANON", ignore_errors=True)

    report = Importer(config, store).import_paths(listing_that_breaks(), source=str(card))
    assert report.state == "interrupted" and "could not list" in report.message
    assert [Path(p).name for p in report.imported] == ["DSCN0010.jpg"]
    row = store.row("SELECT state FROM imports WHERE id = ?", (report.import_id,))
    assert row["state"] == "interrupted"
