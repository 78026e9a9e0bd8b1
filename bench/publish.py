"""Publish pipeline benchmark: naive Pillow vs the project's pipeline vs the JPEG decode floor.

Makes camera-like 24 MP and 45 MP JPEGs (scene detail, texture, sensor noise, quality 95, EXIF
orientation 6), then in one run measures, per size and edit recipe:

  (a) naive:    open, decode at full size, orient, edit at full size, resize, watermark, save
  (b) pipeline: appliance.imaging.pipeline.render_encoded with the same edits and watermark
  (c) floor:    a bare draft() + decode at the smallest DCT scale that still covers 2048 px

Both (a) and (b) encode the web JPEG (baseline, optimised tables, quality 85) and a 480 px
thumbnail in memory; neither writes to disk, so the figures are CPU, not the SD card. Peak RSS
of (b) is measured in a fresh child process (os.wait4's rusage of that child). Output quality:
PSNR of (b) against (a) at the output size. Times are medians of repeated runs; the machine is
shared, so ratios matter.
Every process here keeps freed memory for reuse (appliance.publish.heap), as the publisher service does.

    .venv/bin/python bench/publish.py [--quick]

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageOps, ImageStat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from camera import camera_like  # bench/camera.py
from machine import describe, report, spread  # bench/machine.py

from appliance.imaging import pipeline, watermark
from appliance.imaging.recipe import Recipe
from appliance.publish import heap

SIZES = {"24mp": (6000, 4000), "45mp": (8192, 5464)}
LONG_EDGE, THUMB_EDGE, QUALITY = 2048, 480, 85
MARK = watermark.WatermarkSettings(enabled=True, text="© Jane Doe Photography", opacity=0.6,
                                   size=0.25, position="bottom-right")
RECIPES = {
    # All of it at once, as the naive figures in the issue assume: exposure and a straightened
    # horizon (the orientation 6 transpose and the watermark come with every photo).
    "edits": Recipe(exposure=0.5, straighten=2.0),
    "exposure_only": Recipe(exposure=0.5),  # the everyday publish: no geometry edit
}
HEADLINE = "edits"


# -- the three contestants ---------------------------------------------------------------------------
def naive_render(path: Path, recipe: Recipe, mark: watermark.Watermark) -> Image.Image:
    """What one writes first with Pillow: everything at full size, then resize."""
    with Image.open(path) as opened:
        # Same geometry and output size as (b), so the two can be compared pixel for pixel.
        plan = pipeline.plan(opened.size, opened.getexif().get(0x0112, 1), recipe, LONG_EDGE)
        image = ImageOps.exif_transpose(opened)  # full decode + full-size transpose
    image = image.convert("RGB")
    if recipe.exposure:
        image = image.point(pipeline._exposure_lut(recipe.exposure))
    if recipe.straighten:
        w, h = image.size
        image = image.rotate(-recipe.straighten, Image.Resampling.BICUBIC)
        cw, ch = w * plan.crop, h * plan.crop  # the same crop as (b)
        image = image.crop((round((w - cw) / 2), round((h - ch) / 2), round((w + cw) / 2),
                            round((h + ch) / 2)))
    image = image.resize(plan.output, Image.Resampling.LANCZOS)
    return mark.apply(image)  # the same mark pixels as (b): PSNR compares the image pipelines


def naive(path: Path, recipe: Recipe, mark: watermark.Watermark) -> tuple[bytes, bytes]:
    image = naive_render(path, recipe, mark)
    web = io.BytesIO()
    image.save(web, "JPEG", quality=QUALITY, optimize=True)  # the same format as (b)
    thumb = image.copy()
    thumb.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)
    small = io.BytesIO()
    thumb.save(small, "JPEG", quality=80, optimize=True)
    return web.getvalue(), small.getvalue()


def project(path: Path, recipe: Recipe, mark: watermark.Watermark) -> tuple[bytes, bytes]:
    encoded = pipeline.render_encoded(path, recipe, LONG_EDGE, THUMB_EDGE, QUALITY, watermark=mark,
                                      artist="Jane Doe", copyright_="(c) Jane Doe")
    return encoded.web, encoded.thumb


def floor(path: Path) -> None:
    """Only decode, at the smallest DCT scale that still gives a 2048 px long edge."""
    with Image.open(path) as image:
        f = LONG_EDGE / max(image.size)
        image.draft("RGB", (math.ceil(image.width * f), math.ceil(image.height * f)))
        image.load()


def timed(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(fns: dict[str, Callable[[], object]], rounds: int,
                limit: dict[str, int]) -> dict[str, list[tuple[float, float]]]:
    """(wall, cpu) seconds per round; the contestants take turns so they share the same load."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    for round_ in range(rounds):
        order = list(fns) if round_ % 2 == 0 else list(reversed(fns))
        for name in order:
            if round_ >= limit.get(name, rounds):
                continue
            wall, cpu = time.perf_counter(), time.process_time()
            fns[name]()
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return times


@dataclass
class Row:
    label: str
    name: str
    times: dict[str, list[tuple[float, float]]]
    psnr: float
    rss: float

    def ratios(self, top: str, bottom: str, index: int = 0) -> list[float]:
        """Per-round ratios (rounds where both ran): robust to load changing over time."""
        pairs = zip(self.times[top], self.times[bottom], strict=False)
        return [a[index] / b[index] for a, b in pairs]

    def _ratio(self, top: str, bottom: str, index: int) -> float:
        return statistics.median(self.ratios(top, bottom, index))

    @property
    def speedup(self) -> float:
        return self._ratio("naive", "ours", 0)

    @property
    def floor_ratio(self) -> float:
        return self._ratio("ours", "floor", 0)

    @property
    def floor_ratio_cpu(self) -> float:
        return self._ratio("ours", "floor", 1)


def psnr(x: Image.Image, y: Image.Image) -> float:
    if x.size != y.size:
        raise SystemExit(f"output sizes differ: {x.size} vs {y.size}")
    stat = ImageStat.Stat(ImageChops.difference(x.convert("RGB"), y.convert("RGB")))
    mse = sum(stat.sum2) / (3 * x.width * x.height)
    return 99.0 if mse == 0 else 10 * math.log10(255**2 / mse)


def stages(path: Path, recipe: Recipe, mark: watermark.Watermark, repeat: int) -> list[tuple[str, float]]:
    """Where (b)'s time goes (medians). The edit runs in bands on another core while the JPEG
    decodes, so 'decode + edit in bands' is (b)'s render; the band work alone is shown too."""
    from appliance.imaging.bands import Bands

    image = Image.open(path)
    plan = pipeline.plan(image.size, image.getexif().get(0x0112, 1), recipe, LONG_EDGE)
    want = (math.ceil(image.width * plan.factor), math.ceil(image.height * plan.factor))

    def decode() -> Image.Image:
        with Image.open(path) as opened:
            opened.draft("RGB", want)
            opened.load()
            return opened

    frame = decode()
    lut = pipeline._exposure_lut(recipe.exposure) if recipe.exposure else None
    out = pipeline.render(path, recipe, LONG_EDGE, mark)
    return [(name, timed(fn, repeat)) for name, fn in [
        (f"decode (draft to {frame.width}x{frame.height})", decode),
        ("decode + edit in bands (render)", lambda: pipeline.render(path, recipe, LONG_EDGE, mark)),
        ("  the band work alone (other core)", lambda: Bands(
            plan, frame.size, lambda band: band, lut).finish(frame)),
        ("  watermark", lambda: mark.apply(out.copy())),
        ("encode web (baseline)", lambda: pipeline.jpeg_bytes(out, QUALITY)),
        ("  thumbnail + encode (other core)", lambda: pipeline.thumb_jpeg_bytes(
            pipeline.make_thumbnail(out, THUMB_EDGE))),
    ]]


# -- peak memory in a fresh process ------------------------------------------------------------------
def child(path: str, recipe_name: str, which: str) -> None:
    """Run once in this fresh process (the parent reads our peak RSS from os.wait4)."""
    recipe = RECIPES[recipe_name]
    mark = watermark.Watermark(MARK, Path(path).parent / "state")
    (project if which == "pipeline" else naive)(Path(path), recipe, mark)


def peak_rss_mb(path: Path, recipe_name: str, which: str = "pipeline") -> float:
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(path), recipe_name, which])
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"child failed with {proc.returncode}")
    return usage.ru_maxrss / 1024  # KiB on Linux


# -- manifest size -------------------------------------------------------------------------------------
def manifest_gzip_kb(count: int = 2500) -> float:
    """The gzipped manifest of an event with ``count`` photos, built from a real store."""
    from appliance.publish import manifest
    from appliance.store import Store

    rng = random.Random(4)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bench.db")
        event_id = store.ensure_event("bench", "Bench")
        with store.transaction():
            store.conn.execute("INSERT INTO photos (sha256, original_name, buffer_path, size, "
                               "imported_at) VALUES ('x', 'x.jpg', 'x', 1, '2026-06-14T12:00:00Z')")
            for i in range(count):
                name = f"IMG_{1000 + i}" if i % 7 else f"DSC_{1000 + i}_002"
                portrait = rng.random() < 0.3
                store.conn.execute(
                    "INSERT INTO publications (photo_id, event_id, base, seq, name, recipe, state, "
                    "width, height, thumb_width, thumb_height, color, placeholder, requested_at, "
                    "published_at) VALUES (1, ?, ?, 1, ?, '{}', 'published', ?, ?, ?, ?, ?, ?, ?, ?)",
                    (event_id, name, name, 1365 if portrait else 2048, 2048 if portrait else 1365,
                     320 if portrait else 480, 480 if portrait else 320,
                     f"#{rng.randrange(1 << 24):06x}",
                     "".join(rng.choice("0123456789abcdef") for _ in range(27)),
                     "2026-06-14T12:00:00Z",
                     f"2026-06-14T{12 + i // 600:02d}:{i // 10 % 60:02d}:{rng.randrange(60):02d}Z"))
        body = manifest.encode(manifest.build(store, event_id, live_only=False))
        store.close()
    return len(gzip.compress(body, 6)) / 1024


# -- main -------------------------------------------------------------------------------------------------
def make(path: str, width: str, height: str, seed: str) -> None:
    Path(path).write_bytes(camera_like((int(width), int(height)), int(seed)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats; finishes in under a minute")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--make", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    heap.keep_freed_memory()  # as `appliance publisher` runs (all three contestants share it)
    if args.child:
        child(*args.child)
        return
    if args.make:
        make(*args.make)
        return
    machine = describe()  # the load before this run adds its own
    repeat_naive, repeat = (1, 7) if args.quick else (3, 15)
    results: dict[str, float] = {}
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        # Inputs are made, and peak RSS measured, by children while this process is still small:
        # Linux hands a parent's peak RSS on to children it spawns after growing.
        for label, (w, h) in SIZES.items():
            start = time.perf_counter()
            paths[label] = Path(folder) / f"{label}.jpg"
            subprocess.run([sys.executable, __file__, "--make", str(paths[label]), str(w), str(h),
                            str(w + h)], check=True)
            print(f"made {label}: {w}x{h}, {paths[label].stat().st_size / 1e6:.1f} MB "
                  f"({time.perf_counter() - start:.1f} s)", file=sys.stderr)
        runs = [(label, name) for label in SIZES for name in RECIPES
                if not (args.quick and label == "45mp" and name != HEADLINE)]
        rss = {(label, name): peak_rss_mb(paths[label], name) for label, name in runs}
        if not args.quick:
            results["naive_peak_rss_mb_45mp"] = round(peak_rss_mb(paths["45mp"], HEADLINE, "naive"), 1)

        mark = watermark.Watermark(MARK, Path(folder) / "state")
        for label, name in runs:
            path, recipe = paths[label], RECIPES[name]
            t = interleaved({"naive": lambda p=path, r=recipe: naive(p, r, mark),
                             "ours": lambda p=path, r=recipe: project(p, r, mark),
                             "floor": lambda p=path: floor(p)},
                            repeat, {"naive": repeat_naive})
            quality = psnr(pipeline.render(path, recipe, LONG_EDGE, mark),
                           naive_render(path, recipe, mark))
            row = Row(label, name, t, quality, rss[label, name])
            rows.append(row)
            suffix = "" if name == HEADLINE else f"_{name}"
            results[f"speedup_vs_naive_{label}{suffix}"] = round(row.speedup, 2)
            results[f"floor_ratio_{label}{suffix}"] = round(row.floor_ratio, 2)
            results[f"floor_ratio_{label}{suffix}_range"] = spread(row.ratios("ours", "floor"), 2)[1]
            results[f"floor_ratio_cpu_{label}{suffix}"] = round(row.floor_ratio_cpu, 2)
            results[f"peak_rss_mb_{label}{suffix}"] = round(rss[label, name], 1)
            results[f"psnr_db_{label}{suffix}"] = round(quality, 2)
        breakdown = {name: stages(paths["24mp"], RECIPES[name], mark, repeat) for name in RECIPES}
    results["psnr_db"] = min(v for k, v in results.items() if k.startswith("psnr_db_"))
    results["manifest_gzip_kb_2500"] = round(manifest_gzip_kb(), 1)
    results["watermark_renders"] = watermark.render_count()

    print(f"\npublish pipeline: {LONG_EDGE} px baseline q{QUALITY} web JPEG + {THUMB_EDGE} px "
          f"thumbnail, text watermark, EXIF orientation 6; medians of {repeat} runs "
          f"(naive: {repeat_naive}); {machine['cpu_model']}, {machine['cores']} cores, load average "
          f"{machine['load_average']} at the start\n")
    head = (f"{'size':5} {'edits':14} {'naive (a)':>10} {'ours (b)':>9} {'floor (c)':>9} "
            f"{'a/b':>6} {'b/c':>5} {'b/c range':>10} {'b/c cpu':>7} {'PSNR b~a':>9} {'peak RSS b':>10}")
    print(head)
    print("-" * len(head))
    for row in rows:
        wall = {k: statistics.median(v[0] for v in row.times[k]) for k in row.times}
        print(f"{row.label:5} {row.name:14} {wall['naive'] * 1000:8.0f}ms {wall['ours'] * 1000:7.0f}ms "
              f"{wall['floor'] * 1000:7.0f}ms {row.speedup:5.1f}x {row.floor_ratio:4.2f}x "
              f"{min(row.ratios('ours', 'floor')):4.2f}-{max(row.ratios('ours', 'floor')):4.2f} "
              f"{row.floor_ratio_cpu:6.2f}x {row.psnr:7.1f}dB {row.rss:8.0f}MB")
    for name, recipe in RECIPES.items():
        print(f"\n24mp '{name}' {recipe.to_dict()}, step by step:")
        for step, seconds in breakdown[name]:
            print(f"  {step:34} {seconds * 1000:7.1f} ms")
    print(f"\nkeys without a suffix are the '{HEADLINE}' row; floor (c) = draft() + decode only")
    if "naive_peak_rss_mb_45mp" in results:
        print(f"naive (a) peak RSS at 45mp: {results['naive_peak_rss_mb_45mp']:.0f} MB")
    print(f"manifest of 2,500 photos: {results['manifest_gzip_kb_2500']} KB gzipped; watermark drawn "
          f"{results['watermark_renders']} time(s) over all pipeline runs")
    results = report(results, machine)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
