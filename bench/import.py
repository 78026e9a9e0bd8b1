"""Card ingest benchmark (see ../shared/BENCH.md).

1. Import throughput vs ``cp -r`` of the same camera-like 24 MP JPEGs, one folder to another on the
   same disk, source pages dropped from the cache and memory warmed (see warm_memory) before
   every run: both read from the disk, neither pays this VM's host faults.
   Baseline: ``cp -r`` followed by ``sync`` of the copied files (the import fsyncs every file, so
   both end with the data on the disk); the bare ``cp -r`` (page cache only) is shown too.
   The ratio is the median of the rounds' ratios.
   The import is timed to "every file verified in the buffer" (the card is safe to remove) and to
   the end (thumbnails and store records done). The default ``importer.verify_from = "auto"``
   reads each copy back through the page cache here (the source shares the buffer's filesystem);
   the import with ``verify_from = "disk"`` (read back past the cache) is timed too.
2. Admin thumbnails of 24 MP JPEGs: JPEG draft mode, one worker thread per core.
   The same from a FUSE-mounted FAT card image (``card_source_cp_ratio``): the card's driver
   sets the pace, as a card reader does on the Pi.
3. udev event to first byte copied: a FAT card image attached as a loop device (the kernel's event),
   picked up by the card manager, probed, mounted read-only (FUSE here), first temp file written.
   Needs root, loop devices and fusefat; otherwise reported as null.

Every import runs in a fresh child process, which reports its own peak RSS.
Run: .venv/bin/python bench/import.py [--quick]. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import mmap
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine import describe, report  # bench/machine.py
from PIL import Image, ImageChops

W, H = 6000, 4000  # 24 MP
WARM_FACTOR = 4  # memory warmed before a timed step, in dataset sizes (see warm_memory)


# -- inputs ------------------------------------------------------------------------------------
def camera_like(seed: int) -> Image.Image:
    """Noise and detail like a high-ISO 24 MP frame (coarse structure plus fine grain)."""
    bands = []
    for band in range(3):
        coarse = Image.effect_noise((W // 16, H // 16), 64 + 8 * ((seed + band) % 3))
        coarse = coarse.resize((W, H), Image.Resampling.BICUBIC)
        grain = Image.effect_noise((W, H), 7)
        bands.append(ImageChops.add(coarse, grain, scale=1.0, offset=-128))
    return Image.merge("RGB", bands)


def exif_bytes(index: int) -> bytes:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Canon", "EOS R6", 6
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = f"2024:06:01 {10 + index // 3600 % 10:02d}:{index // 60 % 60:02d}:{index % 60:02d}"
    sub[0x9291] = f"{index % 100:02d}"
    return exif.tobytes()


def with_exif(jpeg: bytes, exif: bytes, index: int = 0) -> bytes:
    """The same image data with another EXIF block (a distinct file, like the next frame).

    A comment of ``index`` bytes gives every frame its own size, as real frames have (each
    frame's entropy-coded data differs): files of equal size would each be hashed first as a
    possible duplicate, which real cards rarely need."""
    assert jpeg[:2] == b"\xff\xd8"
    pos = 2
    while jpeg[pos] == 0xFF and jpeg[pos + 1] in (0xE0, 0xE1):  # drop JFIF/EXIF segments
        pos += 2 + int.from_bytes(jpeg[pos + 2:pos + 4], "big")
    app1 = b"Exif\x00\x00" + exif if not exif.startswith(b"Exif") else exif
    comment = b"\xff\xfe" + (index + 2).to_bytes(2, "big") + b"." * index
    return (b"\xff\xd8\xff\xe1" + (len(app1) + 2).to_bytes(2, "big") + app1 + comment
            + jpeg[pos:])


def make_inputs(folder: Path, count: int, bases: int) -> list[Path]:
    """``count`` distinct 24 MP JPEGs (quality 95, EXIF orientation 6) in a DCIM-like tree."""
    import io

    encoded = []
    for seed in range(bases):
        buf = io.BytesIO()
        camera_like(seed).save(buf, "JPEG", quality=95, exif=exif_bytes(0))
        encoded.append(buf.getvalue())
    out = []
    for i in range(count):
        path = folder / "DCIM" / f"{100 + i // 50}CANON" / f"IMG_{i:04d}.JPG"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(with_exif(encoded[i % bases], exif_bytes(i + 1), i))
        out.append(path)
    os.sync()
    return out


def cold_start(files: list[Path]) -> None:
    """Before a timed step: the sources only on the disk, the memory warm (see warm_memory)."""
    drop_cache(files)
    warm_memory(WARM_FACTOR * sum(p.stat().st_size for p in files))  # sources + copies, twice


def drop_cache(paths: list[Path]) -> None:
    """Evict these files from the page cache (only ours: the machine is shared)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fdatasync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def warm_memory(nbytes: int) -> None:
    """Fault ``nbytes`` of memory in and free it again, so what is timed next gets memory the
    host has backed. This VM gives free pages back to its host (virtio-balloon free page
    reporting): a page freed a few seconds ago costs a host fault to use again, and `cp -r` of
    2 GB then took 2.5-4.3 s instead of 1.0 s (perf: the kernel's memcpy into fresh page-cache
    pages). The import recycles its pages and barely noticed, so the baseline depended on what
    ran before it. A real machine has no such cost; warming puts both sides on its footing.
    Warming only what the step uses was not enough (cp+sync 2.4-3 s): the page allocator does not
    hand out exactly those pages again. Twice that gave 1.9-2.1 s. Capped at half of the memory
    available."""
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    available = next(int(line.split()[1]) << 10 for line in meminfo
                     if line.startswith("MemAvailable"))
    size = min(nbytes, available // 2)
    if size > 0:
        mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE).close()


def all_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


# -- 1. import vs cp -------------------------------------------------------------------------------
def time_cp(src: Path, dst: Path, files: list[Path], durable: bool) -> float:
    cold_start(files)
    start = time.perf_counter()
    subprocess.run(["cp", "-r", str(src), str(dst)], check=True)
    if durable:
        subprocess.run(["sync", *map(str, all_files(dst))], check=True)
    elapsed = time.perf_counter() - start
    shutil.rmtree(dst)
    os.sync()
    return elapsed


CHILD = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from appliance.config import parse
from appliance.ingest.importer import Importer
from appliance.store import Store

work = Path(sys.argv[2])
config = parse(f'[paths]\\ndata_root = "{work}"\\n[event]\\nslug = "bench"\\n'
               f'[importer]\\nverify_from = "{sys.argv[4]}"\\n')
store = Store(config.db_path)
importer = Importer(config, store)
marks = {}
start = time.perf_counter()
report = importer.import_tree(Path(sys.argv[1]),
                              after_copy=lambda r: marks.setdefault("copy", time.perf_counter()))
total = time.perf_counter() - start
assert report.state == "done" and not report.errors, report.summary()
print(json.dumps({"copy_s": marks["copy"] - start, "total_s": total,
                  "imported": len(report.imported),
                  # VmHWM, not ru_maxrss: Linux carries the forking parent's peak across exec
                  "peak_rss_mb": int(next(l.split()[1] for l in open("/proc/self/status")
                                          if l.startswith("VmHWM"))) / 1024}))
"""


def time_import(src: Path, files: list[Path], work: Path, verify_from: str = "auto") -> dict:
    cold_start(files)
    result = subprocess.run([sys.executable, "-c", CHILD, str(src), str(work), str(ROOT),
                             verify_from],
                            check=True, capture_output=True, text=True)
    timing = json.loads(result.stdout.strip().splitlines()[-1])
    assert timing["imported"] == len(files), timing
    shutil.rmtree(work)
    os.sync()
    return timing


# -- 2. thumbnails ---------------------------------------------------------------------------------
def thumbs_rate(files: list[Path], out: Path, workers: int) -> tuple[float, float]:
    """(photos/s by the wall clock, CPU seconds per photo) making admin thumbnails."""
    from appliance.imaging import pipeline

    out.mkdir(parents=True, exist_ok=True)

    def one(path: Path) -> float:
        cpu = time.thread_time()
        pipeline.thumbnail_from_original(path, out / path.name, 400)
        return time.thread_time() - cpu

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        cpu_times = list(pool.map(one, files))
    rate = len(files) / (time.perf_counter() - start)
    shutil.rmtree(out)
    return rate, statistics.median(cpu_times)


# -- 3. udev event to first copy ---------------------------------------------------------------------
def can_attach_cards() -> str | None:
    tools = ["losetup", "mkfs.vfat", "mcopy", "fusefat", "fusermount"]
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        return f"missing {', '.join(missing)}"
    if os.geteuid() != 0 or not Path("/dev/fuse").exists():
        return "needs root and /dev/fuse"
    return None


def card_image(photos: list[Path], work: Path, volume_id: str) -> Path:
    """A FAT card image holding ``photos`` under DCIM/100CANON (32 KiB clusters, like a camera)."""
    tree = work / "tree" / "DCIM" / "100CANON"
    tree.mkdir(parents=True)
    for photo in photos:
        shutil.copy(photo, tree / photo.name)
    image = work / "images" / "card.img"
    image.parent.mkdir(parents=True)
    size_mb = 64 + sum(p.stat().st_size for p in photos) // (1 << 20) * 2
    with open(image, "wb") as handle:
        handle.truncate(size_mb << 20)
    subprocess.run(["mkfs.vfat", "-F", "16" if size_mb < 2000 else "32", "-s", "64", "-i",
                    volume_id, str(image)], check=True, capture_output=True)
    subprocess.run(["mcopy", "-s", "-i", str(image), str(work / "tree" / "DCIM"), "::/"],
                   check=True, capture_output=True, env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})
    shutil.rmtree(work / "tree")
    return image


def card_source_ratio(photos: list[Path], work: Path, repeats: int) -> tuple[float, float]:
    """(cp+sync seconds, import copy-phase seconds) from a FUSE-mounted FAT card image: the
    card's driver, not the destination, sets the pace (as a card reader does on the Pi)."""
    image = card_image(photos, work, "CA7D0001")
    mount = work / "mnt"
    mount.mkdir()
    loop = subprocess.run(["losetup", "-f", "--show", "-r", str(image)], check=True,
                          capture_output=True, text=True).stdout.strip()
    subprocess.run(["fusefat", "-o", "ro", loop, str(mount)], check=True, capture_output=True)
    try:
        files = all_files(mount)
        cps, imports = [], []
        for run in range(repeats):
            for cached in (image, Path(loop)):
                drop_cache([cached])
            cps.append(time_cp(mount, work / "cp", files, durable=True))
            for cached in (image, Path(loop)):
                drop_cache([cached])
            imports.append(time_import(mount, files, work / f"import-{run}")["copy_s"])
        return statistics.median(cps), statistics.median(imports)
    finally:
        subprocess.run(["fusermount", "-u", str(mount)], capture_output=True)
        subprocess.run(["losetup", "-d", loop], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def udev_to_first_copy(photos: list[Path], work: Path) -> float:
    from appliance.config import parse
    from appliance.ingest.cards import CardManager

    image = card_image(photos, work, "BE0C0001")
    images = image.parent
    config = parse(f'[paths]\ndata_root = "{work}/data"\n[importer]\nmount_root = "{work}/cards"\n'
                   f'card_images = "{images}"\n[event]\nslug = "bench"\n')
    config.ensure_folders()
    manager = CardManager(config)
    manager.start()
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            manager.poll(0.05)

    poller = threading.Thread(target=loop, daemon=True)
    poller.start()
    buffer = config.folder("buffer")
    loop_dev = None
    try:
        start = time.perf_counter()
        loop_dev = subprocess.run(["losetup", "-f", "--show", str(image)], check=True,
                                  capture_output=True, text=True).stdout.strip()
        deadline = start + 30
        while not any(buffer.glob(".ingest-*")) and not any(buffer.glob("*/*.jpg")):
            if time.perf_counter() > deadline:
                raise RuntimeError("the card was never picked up")
            time.sleep(0.001)
        elapsed = time.perf_counter() - start
        manager.wait_idle(60)
    finally:
        stop.set()
        poller.join()
        manager.stop()
        if loop_dev:
            subprocess.run(["losetup", "-d", loop_dev], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    return elapsed


# -- main --------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="~400 MB, fewer repeats (< 1 min)")
    args = parser.parse_args()
    machine = describe()  # the load before this run adds its own
    count, bases, repeats = (24, 2, 3) if args.quick else (150, 4, 5)
    thumb_files = 16 if args.quick else 48
    card_files = 8 if args.quick else 40
    with tempfile.TemporaryDirectory(prefix="bench-import-", dir=os.environ.get("BENCH_TMP")) as tmp:
        work = Path(tmp)
        src = work / "card"
        t0 = time.perf_counter()
        files = make_inputs(src, count, bases)
        dataset = sum(p.stat().st_size for p in files)
        print(f"inputs: {count} camera-like 24 MP JPEGs, {dataset / 1e6:.0f} MB "
              f"(made in {time.perf_counter() - t0:.0f} s)")
        cp_durable, cp_bare, copy_phase, whole, rss, from_disk = [], [], [], [], [], []
        for run in range(repeats):  # interleaved so drift hits both sides alike
            cp_bare.append(time_cp(src, work / "cp", files, durable=False))
            cp_durable.append(time_cp(src, work / "cp", files, durable=True))
            timing = time_import(src, files, work / f"import-{run}")
            copy_phase.append(timing["copy_s"])
            whole.append(timing["total_s"])
            rss.append(timing["peak_rss_mb"])
            # importer.verify_from = "disk": every copy read back past the page cache
            from_disk.append(time_import(src, files, work / f"disk-{run}", "disk")["copy_s"])
        med = {name: statistics.median(values) for name, values in (
            ("cp", cp_durable), ("cp_bare", cp_bare), ("copy", copy_phase), ("whole", whole),
            ("disk", from_disk))}
        cpus = os.cpu_count() or 1
        load = os.getloadavg()[0]
        par = [thumbs_rate(files[:thumb_files], work / "thumbs", cpus) for _ in range(repeats)]
        thumbs_par = statistics.median(rate for rate, _ in par)
        thumb_cpu_s = statistics.median(cpu for _, cpu in par)
        thumbs_one = thumbs_rate(files[:thumb_files // 2], work / "thumbs", 1)[0]
        reason = can_attach_cards()
        udev = card = None
        if reason is None:
            udev = statistics.median(udev_to_first_copy(files[:5], work / f"udev-{i}")
                                     for i in range(3))
            card = card_source_ratio(files[:card_files], work / "card-source", repeats)

    mb = dataset / 1e6
    rows = [
        ("cp -r + sync of the copies (baseline)", med["cp"], mb / med["cp"]),
        ("cp -r, page cache only", med["cp_bare"], mb / med["cp_bare"]),
        ("import: all verified in the buffer", med["copy"], mb / med["copy"]),
        ("import: incl. thumbnails + store", med["whole"], mb / med["whole"]),
        ("import, verify_from = disk: all verified", med["disk"], mb / med["disk"]),
    ]
    print(f"\n{'':40} {'median s':>9} {'MB/s':>8}")
    for label, seconds, rate in rows:
        print(f"{label:40} {seconds:9.2f} {rate:8.0f}")
    # The disk's speed drifts a lot on a shared host: the ratio is the median of each round's
    # ratio (cp and import run back to back), not a ratio of medians.
    ratios = sorted(c / i for c, i in zip(cp_durable, copy_phase, strict=True))
    disk_ratio = statistics.median(c / i for c, i in zip(cp_durable, from_disk, strict=True))
    figures = {
        "cp_ratio": round(statistics.median(ratios), 3),
        "cp_ratio_range": [round(ratios[0], 3), round(ratios[-1], 3)],
        "thumbs_per_s_24mp": round(thumbs_par, 1),
        "udev_to_first_copy_s": None if udev is None else round(udev, 3),
        "cp_ratio_with_thumbs": round(med["cp"] / med["whole"], 3),
        "cp_ratio_verify_from_disk": round(disk_ratio, 3),
        "cp_ratio_vs_page_cache_cp": round(med["cp_bare"] / med["copy"], 3),
        "card_source_cp_ratio": None if card is None else round(card[0] / card[1], 3),
        "thumbs_per_s_24mp_one_worker": round(thumbs_one, 1),
        "thumb_cpu_ms_24mp": round(thumb_cpu_s * 1000, 1),
        "thumbs_per_s_24mp_cpu_bound": round(cpus / thumb_cpu_s, 1),
        "peak_rss_mb_import": round(max(rss), 1),
        "dataset_mb": round(mb),
        "files": count,
    }
    print("\nper round, s: cp+sync " + " ".join(f"{t:.2f}" for t in cp_durable)
          + " | import " + " ".join(f"{t:.2f}" for t in copy_phase)
          + " | verify_from = disk " + " ".join(f"{t:.2f}" for t in from_disk))
    print(f"cp ratio (import / cp+sync throughput, median of {len(ratios)} rounds): {figures['cp_ratio']}"
          f" (rounds {ratios[0]:.2f}-{ratios[-1]:.2f}; goal >= 0.9)\n"
          "  (the default verify_from = auto reads a copy back through the page cache when the"
          " source shares the buffer's filesystem, as here)")
    print(f"  with thumbnails and records: {figures['cp_ratio_with_thumbs']};"
          f" vs page-cache cp: {figures['cp_ratio_vs_page_cache_cp']};"
          f" with verify_from = disk: {figures['cp_ratio_verify_from_disk']}")
    print(f"thumbnails 24 MP: {figures['thumbs_per_s_24mp']}/s with {cpus} workers, "
          f"{figures['thumbs_per_s_24mp_one_worker']}/s with one  (goal >= 10)")
    print(f"  {figures['thumb_cpu_ms_24mp']} ms of CPU each: {figures['thumbs_per_s_24mp_cpu_bound']}/s"
          f" when the {cpus} cores are ours (load average here: {load:.1f})")
    if card is not None:
        print(f"from a FUSE-mounted FAT card image ({card_files} files; auto reads the copies back"
              f" from the disk): cp+sync {card[0]:.2f} s, import {card[1]:.2f} s,"
              f" ratio {figures['card_source_cp_ratio']}")
    print("udev event to first copy: " + (f"{udev:.3f} s  (goal <= 2)" if udev is not None
                                          else f"not measured ({reason})"))
    print(f"peak RSS of an import (fresh child): {figures['peak_rss_mb_import']} MB")
    figures = report(figures, machine)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
