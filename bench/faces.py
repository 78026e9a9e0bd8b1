#!/usr/bin/env python3
"""Face search benchmarks (issue 21), the guest's side: matching quality, appliance/browser parity,
the browser's cost.

    .venv/bin/python bench/faces.py [--quick]

1. Appliance side: the face engine (appliance/imaging/faces, face-api on TensorFlow.js WASM under
   Node, the appliance's model and options, faces.threads engine threads) describes every image
   of the labelled set (tests/data/faces/: 24 people, 58 images, SOURCE.md).
   index_ms_per_photo: wall time per published web-size photo as the faces service spends it,
   model loaded: camera samples published the publisher's way (long edge at most 2048, JPEG
   quality 85; the samples are at most 1024 px and show few faces, so this is mostly the
   detector), decoded and described in the indexer's batches (four photos per engine thread, each
   thread on its own core), median of passes over them; index_ms_one_thread: the same with one
   engine thread, in the same run (the per-photo latency; the figure before threads).
   index_ms_group_photo: as index_ms_per_photo for face-api's six demo group photos (1000 px, 3-5
   faces each: landmarks and descriptors too).

2. Browser side: the gallery's own modules (web/js/face-model.js, face-match.js, face-index.js) in
   Debian's headless Chromium, served from web/ with the model staged by
   functions/_tools/face-model.mjs. model_load_s: face-api + WASM + the three nets, cold.
   descriptor_ms: median time for one labelled image. --quick: the 12 real photos only (P/R then rest
   on Obama's shots alone), fewer timing runs.

3. pi_browser_cos_min: every face found on both sides (paired by box), cosine similarity of the
   appliance's and Chromium's 128-d descriptors; the minimum (goal ≥ 0.99).

4. match_precision / match_recall at the shipped threshold (face-match.js DEFAULT_STEP): each
   labelled face the model finds is a selfie (its Chromium descriptor); the index is every other
   image, described by the appliance and quantised to int8 as faces.bin stores it. A photo is
   retrieved when its best face scores at or above the threshold, relevant when the labels put the
   person in it (also where the model misses the face). A face an augmented crop cut off (labels:
   "cut", less than 80 % of it inside, SOURCE.md) is neither a selfie nor relevant, and finding
   that photo for that person is not counted as a false match either. Micro-averaged over all selfies. The
   threshold and face-match.js's MEAN_FACE were calibrated on this same set: the figures are
   optimistic for other faces. Every step of "show more / fewer" is printed.

5. match_ms_2500 / index_kb_2500: a faces.bin of 2,500 photos with 5,000 faces (the labelled set's
   appliance descriptors with noise) encoded by appliance/publish/face_index.py; in Chromium with
   the model loaded: selfie descriptor + decode + match, median; the file gzipped (level 6).

6. guest_model_mb: what a guest downloads the first time they open "Find my photos": the staged
   model files the page fetches (face-api.esm.js, one WASM binary, three nets) and the face
   modules and CSS, each gzipped (level 6), MB = 10^6 bytes.

7. index_keeps_up: the real `appliance publisher` and `appliance faces` services side by side
   (bench/faces_keepup.py): photos the faces service indexes per second while photos are published
   one after the other; publish_p95_regression: publish p95 (request -> published) with the faces
   service running over publishing alone, alternating rounds in the same run (goal: at most 0.1).
Prints a table and, as the last line, one JSON object.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import math
import random
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from faces_keepup import keeps_up  # bench/faces_keepup.py
from machine import describe, report  # bench/machine.py

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from PIL import Image, ImageOps  # noqa: E402
from support import face_gallery as fg  # noqa: E402  tests/support/face_gallery.py
from support import gallery as gf  # noqa: E402  tests/support/gallery.py
from support.browser import chromium  # noqa: E402  Debian's chromium with the project's flags
from support.samples import SAMPLES  # noqa: E402

from appliance.config.sections import FacesConfig  # noqa: E402
from appliance.imaging.faces.engine import FaceEngine, rgb  # noqa: E402
from appliance.publish import face_index  # noqa: E402
from appliance.publish.faces import PHOTOS_PER_THREAD  # noqa: E402

GOALS = {"pi_browser_cos_min": 0.99, "match_precision": 0.9, "match_recall": 0.9, "match_ms_2500": 1000,
         "index_kb_2500": 1500, "index_ms_per_photo": 250, "index_keeps_up": 2, "publish_p95_regression": 0.1}
THREADS = FacesConfig().threads  # the faces service's engine threads (faces.threads)
LONG_EDGE = 2048  # publish.long_edge: the web-size photo the appliance indexes

# In the page: load the model, describe the images, evaluate matching with the gallery's modules.
PAGE_DESCRIBE = """async (images) => {
  const fm = await import('/js/face-model.js');
  const t0 = performance.now();
  const api = await fm.loadModel();
  const loadMs = performance.now() - t0;
  const out = {}, times = [];
  for (const [name, b64] of Object.entries(images)) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const t = performance.now();
    const canvas = await fm.toCanvas(new Blob([bytes], {type: 'image/jpeg'}));
    const faces = await fm.describe(api, canvas);
    times.push(performance.now() - t);
    out[name] = faces.map((f) => ({box: [f.box.x / canvas.width, f.box.y / canvas.height,
      f.box.w / canvas.width, f.box.h / canvas.height], descriptor: Array.from(f.descriptor)}));
  }
  return {loadMs, times, faces: out};
}"""
PAGE_EVALUATE = """async ({index, queries, people, cut}) => {
  const m = await import('/js/face-match.js');
  const steps = m.THRESHOLDS.map((t) => ({threshold: t, tp: 0, retrieved: 0, relevant: 0}));
  const missed = [];
  for (const q of queries) {
    const others = index.filter((f) => f.photo !== q.image);
    const ranked = m.scores(Float32Array.from(q.descriptor), m.prepare(others.map((f) =>
      ({photo: f.photo, box: null, descriptor: Float32Array.from(f.descriptor)}))));
    const relevant = Object.keys(people).filter((img) => img !== q.image && people[img].includes(q.person));
    steps.forEach((s, i) => {
      // a photo where the crop cut this person's face off: neither expected nor a false match
      const got = m.matches(ranked, i).map((r) => r.photo).filter((p) => !(cut[p] || []).includes(q.person));
      s.retrieved += got.length;
      s.relevant += relevant.length;
      s.tp += got.filter((p) => relevant.includes(p)).length;
      if (i !== m.DEFAULT_STEP) return;
      relevant.filter((p) => !got.includes(p)).forEach((p) => missed.push([q.person, p]));
    });
  }
  return {steps, defaultStep: m.DEFAULT_STEP, missed};
}"""
PAGE_MATCH = """async ({selfie, index, runs}) => {
  const fm = await import('/js/face-model.js');
  const fi = await import('/js/face-index.js');
  const m = await import('/js/face-match.js');
  const api = await fm.loadModel();
  const bytes = Uint8Array.from(atob(selfie), (c) => c.charCodeAt(0));
  const bin = Uint8Array.from(atob(index), (c) => c.charCodeAt(0));
  const times = [];
  let hits = 0;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    const faces = await fm.describe(api, await fm.toCanvas(new Blob([bytes], {type: 'image/jpeg'})));
    const ranked = m.scores(faces[0].descriptor, m.prepare(fi.decode(bin.slice().buffer).faces));
    hits = m.matches(ranked, m.DEFAULT_STEP).length;
    times.push(performance.now() - t);
  }
  return {times, hits};
}"""


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def nearest(box: list[float], faces: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The face whose box centre is nearest ``box``'s, within half its width."""
    best, dist = None, math.inf
    for f in faces:
        d = math.dist((box[0] + box[2] / 2, box[1] + box[3] / 2), (f["box"][0] + f["box"][2] / 2,
                                                                  f["box"][1] + f["box"][3] / 2))
        if d < dist and d < box[2] / 2:
            best, dist = f, d
    return best


def per_photo_ms(engine: FaceEngine, paths: list[Path], rounds: int) -> float:
    """Wall time per photo as the faces service spends it: the published JPEGs decoded and described
    in FaceIndexer.scan_next's batches (PHOTOS_PER_THREAD per engine thread), median of ``rounds``
    passes."""
    engine.start()  # the worker started and the models loaded: not part of a photo's time
    passes = []
    batch = engine.threads * PHOTOS_PER_THREAD
    for _ in range(rounds):
        t = time.perf_counter()
        for i in range(0, len(paths), batch):
            for answer in engine.detect_many([lambda p=p: rgb(p) for p in paths[i:i + batch]]):
                if isinstance(answer, Exception):
                    raise answer
        passes.append((time.perf_counter() - t) * 1000 / len(paths))
    return statistics.median(passes)


def web_size_samples(folder: Path, count: int) -> list[Path]:
    """Camera samples as the publisher publishes them: long edge at most 2048, JPEG quality 85."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for path in (sorted(SAMPLES.rglob("*.jpg"))[:count] if SAMPLES.is_dir() else []):
        with Image.open(path) as im:
            img = ImageOps.exif_transpose(im).convert("RGB")
        img.thumbnail((LONG_EDGE, LONG_EDGE))
        out.append(folder / f"{len(out):03d}.jpg")
        img.save(out[-1], "JPEG", quality=85)
    return out


def appliance_side(images: list[str], samples: list[Path], rounds: int
                   ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, float]]:
    """The engine's faces of the labelled images, and its times per photo (web-size camera
    samples; face-api's demo group photos, 1000 px, 3-5 faces: landmarks and descriptors too), with
    the service's threads and, for comparison in the same run, one thread."""
    out: dict[str, list[dict[str, Any]]] = {}
    times: dict[str, float] = {}
    groups = [fg.FACES / rel for rel in images if rel.startswith("real/fa-")]
    with FaceEngine(threads=THREADS) as engine:
        answers = engine.detect_many([lambda r=r: rgb(fg.FACES / r) for r in images])
        for rel, faces in zip(images, answers, strict=True):
            if isinstance(faces, Exception):
                raise faces
            out[rel] = [{"box": list(f.box), "descriptor": list(f.descriptor)} for f in faces]
        if samples:
            times["index_ms_per_photo"] = per_photo_ms(engine, samples, rounds)
        if groups:
            times["index_ms_group_photo"] = per_photo_ms(engine, groups, rounds)
    with FaceEngine(threads=1) as engine:
        if samples:
            times["index_ms_one_thread"] = per_photo_ms(engine, samples, rounds)
    return out, times


def big_index(descriptors: list[list[float]], photos: int = 2500, per_photo: int = 2) -> bytes:
    """faces.bin of `photos` photos, `per_photo` faces each: real descriptors plus a little noise."""
    rnd = random.Random(21)
    names = [f"IMG_{i:05d}" for i in range(photos)]
    faces = []
    for name in names:
        for _ in range(per_photo):
            base = rnd.choice(descriptors)
            faces.append(face_index.Face(name, (rnd.random() * 0.8, rnd.random() * 0.8, 0.1, 0.15),
                                         tuple(v + rnd.gauss(0, 0.02) for v in base)))
    return face_index.encode(names, faces)


def int8(descriptor: list[float]) -> tuple[int, ...]:
    """The descriptor as faces.bin stores it."""
    return struct.unpack("<128b", face_index.quantise(descriptor))


def guest_download(web: Path, model_dir: Path) -> int:
    """Bytes (gzip -6) of what the first search fetches."""
    files = [model_dir / "face-api.esm.js", model_dir / "tfjs-backend-wasm-simd.wasm",
             *sorted((model_dir / "model").iterdir()),
             *(web / "js" / n for n in ("faces.js", "face-model.js", "face-match.js", "face-index.js")),
             web / "faces.css"]
    return sum(len(gzip.compress(f.read_bytes(), 6)) for f in files)


def browser_side(images: list[str], labels: dict[str, Any], appliance: dict[str, list[dict[str, Any]]],
                 index_bin: bytes, runs: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    b64 = {rel: base64.b64encode((fg.FACES / rel).read_bytes()).decode() for rel in images}
    index = [{"photo": rel, "descriptor": [v / 127 for v in int8(f["descriptor"])]}
             for rel in images for f in appliance[rel]]
    with gf.GalleryServer(poll_seconds=30) as srv, sync_playwright() as p:
        browser = chromium(p)
        page = browser.new_page()
        page.set_default_timeout(300_000)
        page.goto(srv.url + "/")
        got = page.evaluate(PAGE_DESCRIBE, b64)
        queries = []
        for rel in images:
            for face in labels[rel]["faces"]:
                if face.get("cut"):
                    continue  # cut off by an augmented crop's edge: not in that image (SOURCE.md)
                mine = nearest(face["box"], got["faces"][rel]) if face["box"] else None
                if mine:
                    queries.append({"image": rel, "person": face["person"], "descriptor": mine["descriptor"]})
        people = {rel: [f["person"] for f in labels[rel]["faces"] if not f.get("cut")] for rel in images}
        cut = {rel: [f["person"] for f in labels[rel]["faces"] if f.get("cut")] for rel in images}
        quality = page.evaluate(PAGE_EVALUATE, {"index": index, "queries": queries, "people": people,
                                                "cut": cut})
        selfie = base64.b64encode((fg.FACES / "real" / "fr-obama3.jpg").read_bytes()).decode()
        match = page.evaluate(PAGE_MATCH, {"selfie": selfie, "index": base64.b64encode(index_bin).decode(),
                                           "runs": runs})
        browser.close()
    return {"got": got, "quality": quality, "match": match, "queries": len(queries)}


def parity(appliance: dict[str, list[dict[str, Any]]], browser: dict[str, list[dict[str, Any]]]
           ) -> tuple[list[float], int]:
    """Cosines of the faces both sides found, and how many faces only one side found."""
    cos, unpaired, worst = [], 0, []
    for rel, faces in appliance.items():
        theirs = browser.get(rel, [])
        unpaired += abs(len(faces) - len(theirs))
        for f in faces:
            other = nearest(f["box"], theirs)
            if other:
                cos.append(cosine(f["descriptor"], other["descriptor"]))
                worst.append((cos[-1], rel, [round(v, 3) for v in f["box"]],
                              [round(v, 3) for v in other["box"]]))
    for c, rel, mine, theirs in sorted(worst)[:1]:
        print(f"lowest parity {c:.4f}: {rel} appliance box {mine}, browser box {theirs}")
    return cos, unpaired


def miss_reasons(missed: list[list[str]], labels: dict[str, Any]) -> dict[str, int]:
    """Why a relevant photo was missed: the model finds no face there, the face is cut by the
    photo's edge (a neighbour in an augmented crop), or a whole face scored below the threshold."""
    reasons = {"not found by the model": 0, "cut by the photo's edge": 0, "whole face below threshold": 0}
    for person, photo in missed:
        box = next(f["box"] for f in labels[photo]["faces"] if f["person"] == person and not f.get("cut"))
        if box is None:
            reasons["not found by the model"] += 1
        elif min(box[0], box[1]) < 0.01 or max(box[0] + box[2], box[1] + box[3]) > 0.99:
            reasons["cut by the photo's edge"] += 1
        else:
            reasons["whole face below threshold"] += 1
    return reasons


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--quick", action="store_true",
                    help="the labelled set's real photos only (no augmentations), fewer timing runs")
    args = ap.parse_args()
    machine = describe()
    t_start = time.monotonic()
    why = fg.unavailable()
    if why:
        print(f"no figures: {why}")
        print(json.dumps(report({"quick": bool(args.quick)}, machine)))
        return 0
    model_dir = fg.stage_model()
    labels = fg.labels()
    images = sorted(rel for rel in labels if rel.startswith("real/") or not args.quick)
    with tempfile.TemporaryDirectory() as tmp:
        samples = web_size_samples(Path(tmp), 6 if args.quick else 12)
        appliance, times = appliance_side(images, samples, 2 if args.quick else 3)
    descriptors = [f["descriptor"] for faces in appliance.values() for f in faces]
    index_bin = big_index(descriptors)
    b = browser_side(images, labels, appliance, index_bin, 2 if args.quick else 7)
    cos, unpaired = parity(appliance, b["got"]["faces"])
    steps, default = b["quality"]["steps"], b["quality"]["defaultStep"]
    print(f"labelled set: {len(images)} images, {len(descriptors)} faces found by the appliance, "
          f"{b['queries']} selfies")
    print(f"{'threshold':>10} {'precision':>10} {'recall':>8}")
    for i, s in enumerate(steps):
        mark = "  <- shipped" if i == default else ""
        print(f"{s['threshold']:>10.2f} {s['tp'] / max(1, s['retrieved']):>10.3f} "
              f"{s['tp'] / max(1, s['relevant']):>8.3f}{mark}")
    print("missed at the shipped threshold: " + ", ".join(
        f"{n} {why}" for why, n in miss_reasons(b["quality"]["missed"], labels).items()))
    shipped = steps[default]
    result: dict[str, Any] = {
        "match_precision": round(shipped["tp"] / max(1, shipped["retrieved"]), 3),
        "match_recall": round(shipped["tp"] / max(1, shipped["relevant"]), 3),
        "match_threshold": shipped["threshold"],
        "pi_browser_cos_min": round(min(cos), 4),
        "pi_browser_cos_median": round(statistics.median(cos), 4),
        "parity_faces": len(cos),
        "parity_faces_unpaired": unpaired,
        "model_load_s": round(b["got"]["loadMs"] / 1000, 2),
        "descriptor_ms": round(statistics.median(b["got"]["times"])),
        "match_ms_2500": round(statistics.median(b["match"]["times"])),
        "index_kb_2500": round(len(gzip.compress(index_bin, 6)) / 1000, 1),
        "guest_model_mb": round(guest_download(ROOT / "web", model_dir) / 1e6, 2),
        "quick": bool(args.quick),
    }
    if "index_ms_per_photo" in times:
        result["index_ms_per_photo"] = round(times["index_ms_per_photo"])
        result["index_ms_one_thread"] = round(times["index_ms_one_thread"])
    else:
        print(f"index_ms_per_photo: no camera samples under {SAMPLES}")
    if "index_ms_group_photo" in times:
        result["index_ms_group_photo"] = round(times["index_ms_group_photo"])
    result["index_threads"] = THREADS
    demos = sorted((fg.FACES / "real").glob("fa-sample*.jpg"))
    with tempfile.TemporaryDirectory() as tmp:
        up = keeps_up(Path(tmp), demos, 60 if args.quick else 120, 1 if args.quick else 2, THREADS)
    result["index_keeps_up"] = up["index_keeps_up"]
    result["publish_p95_regression"] = up["publish_p95_regression"]
    result["publish_p95_s_alone"] = up["publish_p95_s_alone"]
    result["publish_p95_s_with_faces"] = up["publish_p95_s_with_faces"]
    result["publish_p50_s_alone"] = up["publish_p50_s_alone"]
    result["publish_p50_s_with_faces"] = up["publish_p50_s_with_faces"]
    result["keepup_photos_published"] = up["keepup_photos_published"]
    if up["index_cpu_s_per_photo"] is not None:
        result["index_cpu_s_per_photo"] = up["index_cpu_s_per_photo"]
    else:
        print("index_cpu_s_per_photo: no photo was indexed while publishing")
    result["publisher_cores_busy"] = up["publisher_cores_busy"]
    result["wall_s"] = round(time.monotonic() - t_start, 1)
    print(f"\n{'figure':<24} {'value':>10} {'goal':>8}")
    for key, value in result.items():
        goal = GOALS.get(key)
        print(f"{key:<24} {value!s:>10} {'' if goal is None else goal:>8}")
    result = report(result, machine)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
