"""Live ingest benchmark (see ../shared/BENCH.md): RAW-only frames and HEIC; one function per figure.

1. ``raw_preview_per_s``: RAW-only frames -> published web JPEG, per second, on this machine's
   cores (2 here). Each frame is a real RW2 structure (tests/data/synthetic/P1000001.RW2, LibRaw
   flip 6) whose embedded preview is replaced by a camera-like 24 MP JPEG (6000x4000, q95, made
   by ExifTool's ``-JpgFromRaw<=``) and padded with random bytes to a 24 MP RAW's size (~25 MB), so
   copying and hashing cost what a real RAW costs. Timed: one import of the folder as a card
   (verified copy to the archive, preview extracted and written to the buffer, thumbnail, store)
   plus publishing every photo through the real publish worker (request, claim, process: web JPEG
   + thumbnail) after it. ``raw_preview_per_s_with_service``: the publish service's real loop in
   its own process instead, as on the appliance, with the card's auto-publish rule ``all, 0 s``,
   rendering each photo as soon as it is recorded while the import goes on (to the last web JPEG).
   The same frames as camera JPEGs (``jpeg_per_s``) and with 1620x1080 previews are shown beside
   it, and ``raw_preview_decode_floor_per_s``: what decoding the preview twice (admin thumbnail,
   publish) alone allows on every core. Source files were just written (in the page cache): the
   card reader's speed is not measured.
2. ``heic_publish_ratio``: one 12 MP photo as a HEIC and as a camera JPEG (q95) of the same
   pixels: pillow-heif's real iPhone 13 Pro sample (tests/data/pillow-heif/pug.heic, 4032x3024 in
   48 tiles of 512 px as phones write them, 1.3 MB; BSD-3-Clause, see the README there). The same
   stages on both sides, from the verified copy (the same for both, left out) to the web JPEG.
   JPEG: the admin thumbnail made at import + the publish (decode, render, encode web JPEG and
   thumbnail). HEIC: the derivation at import (decode the HEIC, write the q95 buffer JPEG, the
   admin thumbnail from the decoded pixels), which replaces the camera's own encoding, + the same
   publish from that JPEG. Medians of interleaved rounds; each part printed.
   ``heic_ratio_previous_count``: the same without the JPEG's thumbnail (how it was counted before
   2026-12-07); ``heic_publish_only_ratio``: the publish alone; ``heic_publish_ratio_grainy``: a
   synthetic grainy 12 MP HEIC (camera_like, x265 q80 ultrafast, one image, 9 MB).

3.-5. The FTP figures (``ftp_vs_copy_ratio``, ``ftp_to_bucket_p95_s``, ``ftp_partial_lost``): see
   bench/ftp_figures.py.

Run: .venv/bin/python bench/live_ingest.py [--quick]. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from camera import camera_like  # bench/camera.py
from ftp_figures import QUIET, ftp_bucket_figures, ftp_copy_figures, ftp_partial_figures
from machine import measure, spread  # bench/machine.py
from PIL import Image

from appliance import config as config_mod
from appliance.imaging import pipeline
from appliance.imaging.heif import heif_jpeg
from appliance.ingest.importer import Importer
from appliance.ingest.originals import describe
from appliance.ingest.scan import walk
from appliance.publish import service
from appliance.publish.worker import Publisher
from appliance.store import Store

RAW_TEMPLATE = ROOT / "tests" / "data" / "synthetic" / "P1000001.RW2"
RAW_BYTES = 25_000_000  # a 24 MP camera's RAW
PREVIEW = (4000, 6000)  # camera_like stores it sideways: 6000x4000 in the file, like a sensor
SMALL_PREVIEW = (1080, 1620)  # about what many Sony ARW embed (and the size of a CR3 PRVW)
MARK = b"frame ----------"
HEIC_SIZE = (3000, 4000)  # 12 MP, stored 4000x3000 with orientation 6
PHONE_HEIC = ROOT / "tests" / "data" / "pillow-heif" / "pug.heic"  # an iPhone 13 Pro photo (README there)
Figures = dict[str, object]
CARD = "card BENCH (/dev/sdz1)"  # the import's source: a card, whose auto-publish rule applies


# -- 1. raw_preview_per_s ------------------------------------------------------------------------
def raw_frames(work: Path, count: int, size: tuple[int, int] = PREVIEW
               ) -> tuple[list[Path], list[Path]] | str:
    """``count`` RAW-only frames and the same previews as camera JPEGs; or why they cannot be made."""
    work.mkdir(parents=True, exist_ok=True)
    exiftool = shutil.which("exiftool")
    if exiftool is None:
        return "exiftool not installed (apt: libimage-exiftool-perl): cannot build RAW frames"
    # one preview, made once; a comment holding the frame number makes each frame's preview (so its
    # derived JPEG) distinct, rewritten in place at the same length so no offset in the RAW moves
    base = camera_like(size, 24)
    jpeg = base[:2] + b"\xff\xfe" + (2 + len(MARK)).to_bytes(2, "big") + MARK + base[2:]
    preview = work / "preview.jpg"
    preview.write_bytes(jpeg)
    template = work / "template.rw2"
    shutil.copyfile(RAW_TEMPLATE, template)
    subprocess.run([exiftool, "-q", "-overwrite_original", f"-JpgFromRaw<={preview}", str(template)],
                   check=True)
    head = template.read_bytes()
    assert head.count(MARK) == 1, "the preview's frame mark must appear once in the RAW"
    raws, jpegs = work / "raw" / "DCIM" / "100PANA", work / "jpeg" / "DCIM" / "100PANA"
    raws.mkdir(parents=True)
    jpegs.mkdir(parents=True)
    for i in range(count):
        mark = f"frame {i:010d}".encode()
        (raws / f"P{i:07d}.RW2").write_bytes(head.replace(MARK, mark) + os.urandom(RAW_BYTES - len(head)))
        (jpegs / f"P{i:07d}.JPG").write_bytes(jpeg.replace(MARK, mark))
    return sorted(raws.iterdir()), sorted(jpegs.iterdir())


def appliance_at(root: Path) -> config_mod.Config:
    return config_mod.parse(f'[paths]\ndata_root = "{root}"\n')


def publish_service(root: Path, count: int, ready: Any) -> None:
    """The publish service (``appliance publisher``'s loop: auto-publish rules, the publish
    worker) in a process of its own, as on the appliance, until ``count`` photos are published."""
    config = appliance_at(root)
    store = Store(config.db_path)

    class Until:  # the service's runner: systemd's part
        def running(self) -> bool:
            return int(store.status()["published"]) < count

        def ready(self, status: str, store: object = None) -> None:
            ready.set()

        def status(self, text: str) -> None: ...

        def alive(self) -> None: ...

        def sleep(self, seconds: float) -> None:
            time.sleep(seconds)

    service.run(config, store, Until())
    store.close()


def import_and_publish(folder: Path, root: Path, count: int, together: bool) -> tuple[float, float, int]:
    """(import s, s to the last web JPEG, photos published) for one import of ``folder`` into a
    fresh appliance at ``root``. ``together``: the publish service runs in its own process while
    the import runs, as on the appliance; else every photo is published after the import."""
    config = appliance_at(root)
    config.ensure_folders()
    store = Store(config.db_path)
    event_id = store.ensure_event("bench", "Bench")
    publishing = None
    if together:  # the card's rule: every frame at once
        store.set_autopublish_rule(event_id, "card", "", "all", 0)
        context = multiprocessing.get_context("spawn")
        ready = context.Event()
        publishing = context.Process(target=publish_service, args=(root, count, ready))
        publishing.start()
        assert ready.wait(60), "the publish service did not start"
    start = time.perf_counter()
    summary = Importer(config, store).import_paths(walk(folder), source=CARD).summary()
    imported = time.perf_counter() - start
    assert summary["imported"] == count and not summary["errors"], summary
    if publishing is not None:
        publishing.join(600)
        assert publishing.exitcode == 0, f"publish service exit code {publishing.exitcode}"
    else:
        publisher = Publisher(config, store)
        for row in store.rows("SELECT id FROM photos ORDER BY id"):
            claimed = store.claim_publication(publisher.request(row["id"]))
            assert claimed is not None and publisher.process(claimed), claimed
    done = time.perf_counter() - start
    published = int(store.status()["published"])
    store.close()
    return imported, done, published


def decode_s(path: Path, box: tuple[int, int], rounds: int = 5) -> float:
    """Median time to decode the JPEG at ``path`` at the DCT scale ``box`` asks for (draft)."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        with Image.open(path) as image:
            image.draft("RGB", box)
            image.load()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def raw_preview_figures(work: Path, quick: bool) -> Figures:
    count, rounds = (5, 1) if quick else (20, 3)
    frames = raw_frames(work, count)
    small = raw_frames(work / "small", count, SMALL_PREVIEW)
    if isinstance(frames, str) or isinstance(small, str):
        print(f"raw_preview_per_s not measured: {frames}")
        return {}
    # (name, frames, with the publish service in its own process)
    runs = [("raw", frames[0], False), ("jpeg", frames[1], False), ("raw_1620px", small[0], False),
            ("raw_with_service", frames[0], True)]
    rates: dict[str, list[float]] = {}
    imports: dict[str, list[float]] = {}
    for r in range(rounds):
        for name, files, together in runs:
            root = work / f"{name}{r}"
            t_import, t_done, n = import_and_publish(files[0].parent.parent.parent, root, count, together)
            assert n == count, (name, n)
            rates.setdefault(name, []).append(count / t_done)
            imports.setdefault(name, []).append(t_import / count)
            shutil.rmtree(root)
    print(f"\nRAW-only frames -> published web JPEG: {count} frames (24 MP preview, "
          f"{RAW_BYTES / 1e6:.0f} MB RAW; 1620x1080 preview: many ARW, a CR3's PRVW), "
          f"{rounds} round(s), {os.cpu_count()} cores")
    print("imported, then every photo published; with_service: the publish service follows the import")
    print(f"{'source':18} {'frames/s':>9} {'import ms/frame':>16}")
    for name in rates:
        per_frame = statistics.median(imports[name]) * 1000
        print(f"{name:18} {statistics.median(rates[name]):9.2f} {per_frame:16.0f}")
    med = {name: statistics.median(values) for name, values in rates.items()}
    # named `results` like main's: tests/test_docs.py finds a figure's key where `results` is assigned
    results: Figures = {"raw_preview_per_s": round(med["raw"], 2),
                        "raw_preview_per_s_range": spread(rates["raw"], 2)[1],
                        "raw_preview_per_s_with_service": round(med["raw_with_service"], 2),
                        "jpeg_per_s": round(med["jpeg"], 2),
                        "raw_preview_vs_jpeg_ratio": round(med["raw"] / med["jpeg"], 2),
                        "raw_preview_per_s_1620px": round(med["raw_1620px"], 2)}
    # What the preview's two decodes alone allow on every core: the admin thumbnail's at import
    # (1/8 scale) and the publish's (the scale the web JPEG's long edge needs)
    config = config_mod.Config()
    preview = work / "preview.jpg"
    with Image.open(preview) as image:
        factor = config.publish.long_edge / max(image.size)
        publish_box = (math.ceil(image.width * factor), math.ceil(image.height * factor))
    thumb_s = decode_s(preview, (config.importer.thumb_size,) * 2, 3 if quick else 7)
    publish_s = decode_s(preview, publish_box, 3 if quick else 7)
    results["raw_preview_decode_floor_per_s"] = round((os.cpu_count() or 1) / (thumb_s + publish_s), 2)
    print(f"the preview's two decodes alone: thumbnail {thumb_s * 1000:.0f} ms + publish "
          f"{publish_s * 1000:.0f} ms = at most {results['raw_preview_decode_floor_per_s']} frames/s "
          f"on {os.cpu_count()} cores")
    return results


# -- 2. heic_publish_ratio -----------------------------------------------------------------------
def heic_inputs(work: Path, grainy: bool) -> dict[str, tuple[Path, Path]] | str:
    """{sample: (camera JPEG, HEIC)} of the same 12 MP image: pillow-heif's real iPhone photo and
    (``grainy``) a synthetic grainy one; or why there are none."""
    try:
        import pillow_heif
    except ImportError:
        return "pillow-heif not installed"
    pillow_heif.register_heif_opener()
    work.mkdir(parents=True, exist_ok=True)
    phone_jpeg = work / "IMG_0003.JPG"
    with Image.open(PHONE_HEIC) as image:  # the same pixels as the camera JPEG a phone can write
        image.load()
        image.save(phone_jpeg, "JPEG", quality=95, icc_profile=image.info.get("icc_profile"),
                   exif=image.getexif().tobytes())
    inputs = {"phone": (phone_jpeg, PHONE_HEIC)}
    if grainy:
        grainy_jpeg = work / "IMG_0001.JPG"
        grainy_jpeg.write_bytes(camera_like(HEIC_SIZE, 12))
        inputs["grainy"] = (grainy_jpeg, work / "IMG_0002.HEIC")
        with Image.open(grainy_jpeg) as image:
            # orientation 6 -> HEIF rotation; x265's slower presets take half a minute for 12 MP
            image.save(inputs["grainy"][1], quality=80, exif=image.info["exif"],
                       enc_params={"preset": "ultrafast"})
    return inputs


def publish_once(path: Path) -> None:
    settings = config_mod.Config().publish
    pipeline.render_encoded(path, {}, settings.long_edge, settings.thumb_edge, settings.quality)


def interleaved(steps: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return times


def heic_rounds(jpeg: Path, heic: Path, work: Path, rounds: int) -> dict[str, list[float]]:
    """Interleaved timings of each stage the two formats go through between the card and the web
    JPEG (the verified copy, the same for both, left out): the admin thumbnail made at import and
    the publish for the JPEG; for the HEIC the derivation at import (decode, q95 buffer JPEG and
    the admin thumbnail from the decoded pixels: the importer's own ``originals.describe``) and
    the publish of that buffer JPEG."""
    derived, thumb = work / "derived.jpg", work / "thumb.jpg"
    edge = config_mod.Config().importer.thumb_size

    def derive() -> None:
        made = heif_jpeg(heic, keep_edge=2 * edge)  # as the importer asks
        derived.write_bytes(made.data)
        describe(made, derived, thumb, edge)

    def decode_only() -> None:
        with Image.open(heic) as image:
            image.load()

    derive()
    publish_once(jpeg)  # warm up
    publish_once(derived)
    return interleaved({"jpeg_thumb": lambda: pipeline.thumbnail_from_original(jpeg, thumb, edge),
                        "jpeg_publish": lambda: publish_once(jpeg), "heic_derive": derive,
                        "heic_publish": lambda: publish_once(derived), "heic_decode": decode_only},
                       rounds)


def heic_figures(work: Path, quick: bool) -> Figures:
    inputs = heic_inputs(work, grainy=not quick)
    if isinstance(inputs, str):
        print(f"heic_publish_ratio not measured: {inputs}")
        return {}
    if quick:
        print("heic_publish_ratio_grainy not measured: --quick (the full run measures it)")
    ratios: dict[str, list[float]] = {}
    for sample, (jpeg, heic) in inputs.items():
        times = heic_rounds(jpeg, heic, work, 3 if quick else 11)
        rounds = range(len(times["jpeg_publish"]))
        ratios[sample] = [(times["heic_derive"][i] + times["heic_publish"][i])
                          / (times["jpeg_thumb"][i] + times["jpeg_publish"][i]) for i in rounds]
        bare = [(times["heic_derive"][i] + times["heic_publish"][i]) / times["jpeg_publish"][i]
                for i in rounds]
        med = {name: statistics.median(values) * 1000 for name, values in times.items()}
        with Image.open(heic) as image:
            size, tiles = image.size, image.info.get("tiling")
        layout = f"a grid of {tiles['num_columns'] * tiles['num_rows']} tiles" if tiles else "one image"
        print(f"\nHEIC vs JPEG, {sample}: {size[0]}x{size[1]} HEIC {heic.stat().st_size / 1e6:.1f} MB "
              f"({layout}), JPEG q95 {jpeg.stat().st_size / 1e6:.1f} MB; medians of {len(rounds)} "
              "interleaved rounds")
        print(f"  JPEG: admin thumbnail at import       {med['jpeg_thumb']:7.0f} ms")
        print(f"  JPEG: publish                         {med['jpeg_publish']:7.0f} ms")
        print(f"  HEIC: derive at import (decode, q95 buffer JPEG, thumbnail) {med['heic_derive']:5.0f} ms")
        print(f"  HEIC: publish from the buffer JPEG    {med['heic_publish']:7.0f} ms")
        print(f"  HEIC / JPEG, same stages              {statistics.median(ratios[sample]):7.2f}x "
              f"(without the JPEG's thumbnail: {statistics.median(bare):.2f}x)")
        floor = med["heic_decode"] / (med["jpeg_thumb"] + med["jpeg_publish"])
        print(f"  floor: libheif's decode alone         {med['heic_decode']:7.0f} ms = {floor:.2f}x "
              "the JPEG's stages")
        publish_only = [times["heic_publish"][i] / times["jpeg_publish"][i] for i in rounds]
        print(f"  publish alone (an imported HEIC's)    {statistics.median(publish_only):7.2f}x")
        if sample == "phone":
            phone = {"bare": statistics.median(bare), "floor": floor,
                     "publish_only": statistics.median(publish_only), **med}
    results: Figures = {"heic_publish_ratio": round(statistics.median(ratios["phone"]), 2),
                        "heic_publish_ratio_range": spread(ratios["phone"], 2)[1],
                        "heic_ratio_previous_count": round(phone["bare"], 2),
                        "heic_publish_only_ratio": round(phone["publish_only"], 2),
                        "heic_decode_floor_ratio": round(phone["floor"], 2),
                        "heic_derive_ms": round(phone["heic_derive"], 1),
                        "heic_publish_ms": round(phone["heic_publish"], 1),
                        "jpeg_thumb_ms": round(phone["jpeg_thumb"], 1),
                        "jpeg_publish_ms": round(phone["jpeg_publish"], 1)}
    if "grainy" in ratios:
        results["heic_publish_ratio_grainy"] = round(statistics.median(ratios["grainy"]), 2)
    return results


FIGURES: list[Callable[[Path, bool], Figures]] = [raw_preview_figures, heic_figures, ftp_copy_figures,
                                                  ftp_bucket_figures, ftp_partial_figures]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer frames and rounds; under a minute")
    results = measure(FIGURES, parser.parse_args().quick, QUIET)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
