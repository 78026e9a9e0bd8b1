"""Admin benchmark: buffer API and thumbnail latency with 2,500 photos, assets shipped, first paint.

Runs the admin as deployed (gunicorn with appliance/admin/gunicorn_conf.py) on loopback over a store
it fills itself: 2,500 buffered photos with camera-like ~400 px thumbnails (noise and detail), a
fifth of them published. Figures (median of repeats where noted; the machine is shared):

- buffer_api_p95_ms: p95 of ``GET /api/buffer?limit=60`` (first page, filters and cursor pages),
  median of 5 interleaved rounds
- thumbs_page_p95_ms: p95 time to fetch one page of 60 thumbnails over 6 connections (a browser)
- deep page: keyset cursor (project) against OFFSET (baseline) at photo 2,400, ratio of medians
- assets_kb: JS + CSS the phone downloads, uncompressed
- first_paint_s: navigation to the first screenful of buffer thumbnails painted, iPhone-sized
  viewport in Debian's Chromium (cold cache, logged in), median of runs; fcp_s alongside
- preview_ms_p50: the editor's live preview (the real pipeline at 720 px) of a 24 MP original
- worker_peak_rss_mb: peak RSS (VmHWM) of a gunicorn worker after the run
- rating_filter_p95_ms: p95 of ``GET /api/buffer?limit=60&rating=3`` (first page and its cursor
  pages; a third of the photos have 3 stars or more), in the same interleaved rounds
- batch_publish_100_s, batch_vs_single_ratio: one batch publish of 100 × 24 MP photos until all are
  live in a moto bucket, against 100 single publishes in the same run (bench/culling.py)

``--quick`` finishes in under a minute: 10 photos of 6 MP for the batch figures (said in the output
and in the JSON's ``batch_photos`` / ``batch_mp``). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import requests
from machine import describe, report  # bench/machine.py
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import culling  # bench/culling.py (after ROOT is on the path: it imports the appliance)

from appliance.config import load
from appliance.store import Store

PASSWORD = "bench-password"
CHROMIUM = "/usr/bin/chromium"
ROUNDS = 5
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


# -- inputs ------------------------------------------------------------------------------------------------
def camera_like(size: tuple[int, int], seed: int) -> Image.Image:
    """Noise and detail (gradients, shapes, fine texture) like a photo, not a flat test card."""
    rnd = random.Random(seed)
    w, h = size
    base = Image.linear_gradient("L").resize(size).rotate(rnd.uniform(0, 360), expand=False)
    image = Image.merge("RGB", [
        base.point(lambda v, k=k: int(v * rnd.uniform(0.4, 1.0) + 40 * k)) for k in range(3)])
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rnd.randrange(w), rnd.randrange(h)
        r = rnd.randrange(5, max(6, w // 6))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rnd.randrange(256) for _ in range(3)))
    noise = Image.effect_noise(size, 48).convert("RGB")
    return Image.blend(image.filter(ImageFilter.GaussianBlur(1)), noise, 0.25)


def save_jpeg(image: Image.Image, path: Path, quality: int, orientation: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    exif[0x0112] = orientation
    image.save(path, "JPEG", quality=quality, exif=exif.tobytes())


def build_store(root: Path, photos: int, unique_thumbs: int, original_mp: int) -> Path:
    """A config and a store with ``photos`` buffered photos; returns the config path."""
    config_path = root / "appliance.toml"
    config_path.write_text(f"""
[paths]
data_root = "data"
[admin]
password = "{PASSWORD}"
[event]
slug = "bench"
title = "Bench night"
""")
    config = load(config_path)
    config.ensure_folders()
    thumbs = config.folder("state") / "thumbs"
    for i in range(unique_thumbs):
        save_jpeg(camera_like((400, 267) if i % 5 else (267, 400), i), thumbs / "bn" / f"{i}.jpg", 78)
    # One real 24 MP original (orientation 6, quality 95) for the preview figure.
    side = int((original_mp * 1e6 / 1.5) ** 0.5)
    original = camera_like((int(side * 1.5), side), 99)
    save_jpeg(original, config.folder("buffer") / "or" / "original.jpg", 95, orientation=6)
    store = Store(config.db_path)
    event_id = store.ensure_event("bench", "Bench night")
    rnd = random.Random(1)
    with store.transaction():
        import_id = store.conn.execute(
            "INSERT INTO imports (source, state, started_at, finished_at) VALUES "
            "('/media/card', 'done', '2025-06-01T10:00:00Z', '2025-06-01T10:05:00Z')").lastrowid
        for i in range(photos):
            capture = f"2025-06-01T{10 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
            store.conn.execute(
                "INSERT INTO photos (sha256, original_name, buffer_path, size, width, height, orientation, "
                "capture_time, camera_make, camera_model, thumb_path, import_id, imported_at, rating) "
                "VALUES (?, ?, ?, ?, 6000, 4000, 6, ?, 'Nikon', 'Z 6', ?, ?, '2025-06-01T10:05:00Z', ?)",
                (f"{i:064x}", f"DSC_{i:04d}.JPG", "or/original.jpg", 9_000_000, capture,
                 f"bn/{i % unique_thumbs}.jpg", import_id, rnd.choice((0, 0, 0, 1, 2, 3, 4, 5, 0))))
        for photo_id in rnd.sample(range(1, photos + 1), photos // 5):
            cursor = store.conn.execute(
                "INSERT INTO publications (photo_id, event_id, base, seq, name, recipe, state, requested_at, "
                "published_at, live_at) VALUES (?, ?, ?, 1, ?, '{}', 'published', '2025-06-01T11:00:00Z', "
                "'2025-06-01T11:00:01Z', '2025-06-01T11:00:03Z')",
                (photo_id, event_id, f"P{photo_id}", f"P{photo_id}"))
            for kind in ("photos", "thumbs"):
                store.conn.execute(
                    "INSERT INTO jobs (kind, event_id, publication_id, key, size, state, created_at, "
                    "done_at) VALUES ('upload', ?, ?, ?, 400000, 'done', '2025-06-01T11:00:01Z', "
                    "'2025-06-01T11:00:03Z')",
                    (event_id, cursor.lastrowid, f"events/bench/{kind}/P{photo_id}.jpg"))
        for photo_id in rnd.sample(range(1, photos + 1), photos // 20):
            store.conn.execute("INSERT OR IGNORE INTO photo_rejections (photo_id, rejected_at) "
                               "VALUES (?, '2025-06-01T12:00:00Z')", (photo_id,))
    store.close()
    return config_path


# -- the server ----------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(config_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    env = {**os.environ, "APPLIANCE_CONFIG": str(config_path), "APPLIANCE_ADMIN_BIND": f"127.0.0.1:{port}",
           "PYTHONPATH": str(ROOT)}
    conf = ROOT / "appliance" / "admin" / "gunicorn_conf.py"
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(conf), "appliance.admin.wsgi:app"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def login(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    res = session.post(f"{base}/login", data={"password": PASSWORD, "csrf_token": token})
    res.raise_for_status()
    return session


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of ``repeat`` calls."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- measurements --------------------------------------------------------------------------------
def measure_api(base: str, session: requests.Session, repeat: int) -> dict[str, float]:
    def get(path: str) -> requests.Response:
        res = session.get(base + path)
        res.raise_for_status()
        return res

    for _ in range(10):
        get("/api/buffer?limit=60")
    cursors = []
    data = get("/api/buffer?limit=60").json()
    while data["next"] and len(cursors) < 45:
        cursors.append(data["next"])
        data = get(f"/api/buffer?limit=60&cursor={data['next']}").json()
    rated = []
    data = get("/api/buffer?limit=60&rating=3").json()
    while data["next"] and len(rated) < 12:
        rated.append(f"/api/buffer?limit=60&rating=3&cursor={data['next']}")
        data = get(rated[-1]).json()
    rated.insert(0, "/api/buffer?limit=60&rating=3")
    rnd = random.Random(7)
    paths = ["/api/buffer?limit=60", "/api/buffer?limit=60&filter=new",
             "/api/buffer?limit=60&filter=published"] + [f"/api/buffer?limit=60&cursor={c}" for c in cursors]
    deep_cursor = cursors[39]  # after 40 pages: photos 2,400+
    # Interleaved, in rounds: a noisy neighbour hits every figure alike; the median of rounds is quoted.
    rounds: dict[str, list[list[float]]] = {k: [] for k in
                                            ("api", "health", "offset", "keyset", "status", "live",
                                             "rating")}
    for _ in range(ROUNDS):
        got: dict[str, list[float]] = {k: [] for k in rounds}
        for i in range(repeat // ROUNDS):
            path = paths[0] if rnd.random() < 0.5 else rnd.choice(paths)
            got["api"] += timed(lambda p=path: get(p), 1)
            got["health"] += timed(lambda: get("/health"), 1)
            rated_path = rated[0] if rnd.random() < 0.5 else rnd.choice(rated)
            got["rating"] += timed(lambda p=rated_path: get(p), 1)
            if i % 2:
                got["offset"] += timed(lambda: get("/api/buffer?limit=60&offset=2400"), 1)
                got["keyset"] += timed(lambda: get(f"/api/buffer?limit=60&cursor={deep_cursor}"), 1)
            if i % 4 == 0:
                got["status"] += timed(lambda: get("/api/status"), 1)
                got["live"] += timed(lambda: get("/api/live"), 1)
        for key, values in got.items():
            rounds[key].append(values)

    def med(key: str, stat: Callable[[list[float]], float]) -> float:
        return statistics.median(stat(values) for values in rounds[key])

    return {"api_p50": med("api", statistics.median), "api_p95": med("api", p95),
            "health_p95": med("health", p95), "deep_offset_p50": med("offset", statistics.median),
            "deep_keyset_p50": med("keyset", statistics.median), "status_p95": med("status", p95),
            "live_p95": med("live", p95), "rating_p95": med("rating", p95)}


def measure_thumbs(base: str, session: requests.Session, pages: int) -> dict[str, float]:
    cookies = session.cookies.get_dict()
    local = threading.local()

    def fetch(path: str) -> int:
        s = getattr(local, "session", None)
        if s is None:
            s = local.session = requests.Session()
            s.cookies.update(cookies)
        res = s.get(base + path)
        res.raise_for_status()
        return len(res.content)

    data = session.get(f"{base}/api/buffer?limit=60").json()
    page_ms, sizes = [], []
    with ThreadPoolExecutor(6) as pool:  # a browser opens six connections per host
        for _ in range(pages):
            thumbs = [p["thumb"] for p in data["photos"]]
            start = time.perf_counter()
            sizes = list(pool.map(fetch, thumbs))
            page_ms.append((time.perf_counter() - start) * 1000)
            data = session.get(f"{base}/api/buffer?limit=60&cursor={data['next']}").json() if data["next"] \
                else session.get(f"{base}/api/buffer?limit=60").json()
    return {"thumbs_page_p50": statistics.median(page_ms), "thumbs_page_p95": p95(page_ms),
            "thumb_kb": statistics.mean(sizes) / 1024}


def measure_assets(base: str, session: requests.Session) -> dict[str, float]:
    html = session.get(f"{base}/").text
    urls = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(/static/[^"]+)"', html)
    js = css = 0
    for url in urls:
        body = session.get(base + url).content
        if ".js" in url:
            js += len(body)
        elif ".css" in url:
            css += len(body)
    return {"assets_kb": (js + css) / 1024, "js_kb": js / 1024, "css_kb": css / 1024,
            "html_kb": len(html.encode()) / 1024}


PAINT_PROBE = """
(() => {
  const done = () => {
    const tiles = [...document.querySelectorAll('#grid .tile img')];
    if (!tiles.length) return false;
    const visible = tiles.filter((i) => i.getBoundingClientRect().top < innerHeight);
    return visible.length > 0 && visible.every((i) => i.complete && i.naturalWidth > 0);
  };
  const tick = () => {
    if (done()) window.__bufferPainted = performance.now(); else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""


def measure_first_paint(base: str, runs: int) -> dict[str, float]:
    if not Path(CHROMIUM).exists():
        return {}
    from playwright.sync_api import sync_playwright

    phone = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True,
             "has_touch": True}
    painted, fcp = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(**phone)
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#grid .tile")
        state = context.storage_state()
        context.close()
        for _ in range(runs):
            context = browser.new_context(**phone, storage_state=state)  # cold cache, logged in
            page = context.new_page()
            page.add_init_script(PAINT_PROBE)
            page.goto(f"{base}/")
            deadline = time.monotonic() + 15
            while not page.evaluate("window.__bufferPainted || 0") and time.monotonic() < deadline:
                time.sleep(0.02)
            painted.append(page.evaluate("window.__bufferPainted") / 1000)
            fcp.append(page.evaluate(
                "(performance.getEntriesByName('first-contentful-paint')[0] || {startTime: NaN}).startTime")
                / 1000)
            context.close()
        browser.close()
    return {"first_paint_s": statistics.median(painted), "first_paint_max_s": max(painted),
            "fcp_s": statistics.median(fcp)}


def measure_preview(base: str, session: requests.Session, repeat: int) -> dict[str, float]:
    """The editor's preview: a different recipe each time, so the short cache never answers."""
    def get(ev: float) -> None:
        session.get(f"{base}/api/preview/1?exposure={ev:.2f}&rotate=90").raise_for_status()

    get(1.99)  # warm the worker
    ms = [timed(lambda ev=i / 100: get(ev), 1)[0] for i in range(repeat)]
    res = session.get(f"{base}/api/preview/1?exposure=0.5")
    size = Image.open(io.BytesIO(res.content)).size
    return {"preview_ms_p50": statistics.median(ms), "preview_edge": max(size)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run (under a minute)")
    parser.add_argument("--photos", type=int, default=2500)
    parser.add_argument("--rounds", type=int, default=None,
                        help="batch/single publish rounds, alternating the order (default 2, --quick 1)")
    args = parser.parse_args()
    machine = describe()  # the load before this run adds its own
    quick = args.quick
    repeat, paint_runs, thumb_pages = (200, 5, 10) if quick else (1000, 9, 30)
    unique = 240 if quick else args.photos
    with tempfile.TemporaryDirectory(prefix="bench-admin-") as tmp:
        started = time.perf_counter()
        config_path = build_store(Path(tmp), args.photos, unique, 24)
        setup_s = time.perf_counter() - started
        with gunicorn(config_path) as (base, proc):
            session = login(base)
            api = measure_api(base, session, repeat)
            thumbs = measure_thumbs(base, session, thumb_pages)
            assets = measure_assets(base, session)
            paint = measure_first_paint(base, paint_runs)
            preview = measure_preview(base, session, 5 if quick else 15)
            rss = max((vm_hwm_mb(pid) for pid in worker_pids(proc.pid)), default=0.0)
        work = Path(tmp) / "culling"
        work.mkdir()
        batch = culling.measure(work, quick, args.rounds or (1 if quick else 2), PASSWORD, gunicorn, login)
    print_table(args, api, thumbs, assets, paint, preview, rss, batch, setup_s)
    results = {
        "buffer_api_p95_ms": round(api["api_p95"], 2),
        "rating_filter_p95_ms": round(api["rating_p95"], 2),
        "assets_kb": round(assets["assets_kb"], 1),
        "first_paint_s": round(paint.get("first_paint_s", float("nan")), 3),
        "fcp_s": round(paint.get("fcp_s", float("nan")), 3),
        "thumbs_page_p95_ms": round(thumbs["thumbs_page_p95"], 1),
        "buffer_api_vs_health_p95": round(api["api_p95"] / api["health_p95"], 2),
        "deep_page_cursor_speedup": round(api["deep_offset_p50"] / api["deep_keyset_p50"], 2),
        "preview_ms_p50": round(preview["preview_ms_p50"], 1),
        "worker_peak_rss_mb": round(rss, 1),
        "photos": args.photos,
        "quick": quick,
    }
    results["batch_publish_100_s"] = round(batch["batch_s"], 2)
    results["single_publish_100_s"] = round(batch["single_s"], 2)
    results["batch_vs_single_ratio"] = round(batch["ratio"], 3)
    results["batch_photos"] = batch["photos"]
    results["batch_mp"] = batch["megapixels"]
    results = report(results, machine)
    print(json.dumps(results))
    return 0


def print_table(args: argparse.Namespace, api: dict, thumbs: dict, assets: dict, paint: dict, preview: dict,
                rss: float, batch: dict, setup_s: float) -> None:
    nan = float("nan")
    n = f"{batch['photos']} × {batch['megapixels']} MP"
    rows = [
        ("photos in the store", f"{args.photos}", "", ""),
        ("GET /api/buffer (60) p50 / p95", f"{api['api_p50']:.1f} / {api['api_p95']:.1f} ms", "≤ 50 ms",
         f"{api['api_p95'] / api['health_p95']:.1f}× /health p95 ({api['health_p95']:.1f} ms)"),
        ("GET /api/buffer?rating=3 p95", f"{api['rating_p95']:.1f} ms", "≤ 50 ms",
         "first page + cursor pages"),
        ("deep page at 2,400: OFFSET (baseline)", f"{api['deep_offset_p50']:.1f} ms p50", "", ""),
        ("deep page at 2,400: cursor (project)", f"{api['deep_keyset_p50']:.1f} ms p50", "",
         f"{api['deep_offset_p50'] / api['deep_keyset_p50']:.2f}× faster"),
        ("GET /api/status p95", f"{api['status_p95']:.1f} ms", "", ""),
        ("GET /api/live p95", f"{api['live_p95']:.1f} ms", "", ""),
        ("page of 60 thumbnails p50 / p95",
         f"{thumbs['thumbs_page_p50']:.0f} / {thumbs['thumbs_page_p95']:.0f} ms",
         "", f"{thumbs['thumb_kb']:.0f} KB each, 6 connections"),
        ("JS + CSS shipped", f"{assets['assets_kb']:.1f} KB", "≤ 150 KB",
         f"JS {assets['js_kb']:.1f} + CSS {assets['css_kb']:.1f}; HTML {assets['html_kb']:.1f} KB"),
        ("first paint of the buffer (390×844)", f"{paint.get('first_paint_s', float('nan')):.3f} s", "≤ 1 s",
         f"FCP {paint.get('fcp_s', nan):.3f} s, worst {paint.get('first_paint_max_s', nan):.3f} s"),
        ("live preview 720 px from 24 MP", f"{preview['preview_ms_p50']:.0f} ms p50", "",
         f"{preview['preview_edge']} px long edge"),
        ("gunicorn worker peak RSS", f"{rss:.0f} MB", "", ""),
        (f"batch publish {n} -> all live", f"{batch['batch_s']:.1f} s", "report",
         f"runs {[round(x, 1) for x in batch['batch_runs']]}"),
        (f"{batch['photos']} single publishes -> all live", f"{batch['single_s']:.1f} s", "",
         f"runs {[round(x, 1) for x in batch['single_runs']]}"),
        ("batch ÷ single", f"{batch['ratio']:.3f}", "≤ 1.0", "same run, alternating order"),
    ]
    mode = "--quick " if args.quick else ""
    print(f"bench/admin.py {mode}(setup {setup_s:.1f} s + culling {batch['setup_s']:.1f} s; loopback, "
          "shared 2-core machine)")
    if args.quick:
        print(f"--quick: the batch figures are of {n} photos, not 100 × 24 MP: "
              "not comparable with a full run")
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in [("figure", "value", "goal", "note"), *rows]:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))


if __name__ == "__main__":
    sys.exit(main())
