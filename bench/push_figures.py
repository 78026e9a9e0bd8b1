"""Push figures of bench/gallery.py: the gallery's live channel (functions/_live/, a Durable
Object in workerd through Miniflare from npm) against the real appliance services.

- push_publish_to_visible_p95_s: the appliance's publisher, sync (with [live]) and local gallery
  server as subprocesses, a moto S3 server, the live channel; a Chromium tab on the event (push
  open); each photo published through the store as the admin does, timed from the request to the
  new thumbnail's load event in the tab. fallback_publish_to_visible_p95_s: the same with every
  WebSocket refused (a proxy that blocks them): the tab polls every 10-12 s.
- push_requests_per_guest_hour: an idle tab with push open, one simulated hour (Playwright's clock;
  the keep-alive pings go over the real socket): HTTP requests the tab made (manifest fetches and
  the WebSocket handshake), images excluded.
- push_guests_held: functions/_tools/guests.mjs connects N real WebSocket guests to one event's
  object and sends signed notifies; the largest N tried where every guest got every one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-push-secret-0123456789abcdef"
LOADED_JS = """() => { window.__loaded = {};
  document.addEventListener('load', (e) => {
    const tile = e.target.closest && e.target.closest('.tile');
    if (e.target.tagName === 'IMG' && tile && !(tile.dataset.name in window.__loaded))
      window.__loaded[tile.dataset.name] = Date.now();
  }, true); }"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def guests_held(sizes: list[int]) -> dict[str, Any]:
    held, runs = 0, []
    for n in sizes:
        out = subprocess.run(["node", str(ROOT / "functions" / "_tools" / "guests.mjs"), "--guests", str(n),
                              "--notifies", "3"], capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            print(f"   guests.mjs with {n} guests failed: {out.stderr.strip()[-300:]}")
            break
        run = json.loads(out.stdout.strip().splitlines()[-1])
        runs.append(run)
        print(f"   {n:>6} guests: connected {run['connected']}, all received {run['all_received']}, "
              f"delivery p95 {run['p95_ms']} ms, max {run['max_ms']} ms, node RSS {run['rss_mb']} MB")
        if not run["all_received"]:
            break
        held = n
    return {"push_guests_held": held, "runs": runs}


def _services(stack: ExitStack, folder: Path, channel_url: str) -> tuple[Any, Any, str]:
    """moto S3 + publisher, sync and gallery subprocesses with [live]; returns (config, store, url)."""
    from moto.server import ThreadedMotoServer
    from support.config import bucket_config
    from support.services import free_port

    from appliance.store import open_store

    folder.mkdir(parents=True, exist_ok=True)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    stack.callback(moto.stop)
    host, port = moto.get_host_and_port()
    live = f'[live]\nurl = "{channel_url}"\nsecret = "{SECRET}"\n'
    bucket = f"bench-push-{folder.name}"  # moto's servers in one process share their buckets
    config = bucket_config(folder, f"http://{host}:{port}", bucket, live)
    import boto3

    boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                 aws_access_key_id="x", aws_secret_access_key="x").create_bucket(Bucket=bucket)
    store = open_store(config)
    stack.callback(store.close)
    gallery_port = free_port()
    base = [sys.executable, "-m", "appliance", "--config", str(config.source)]
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)
    services = (("publisher", []), ("sync", []), ("gallery", ["--bind", f"127.0.0.1:{gallery_port}"]))
    for name, extra in services:
        out = open(logs / f"{name}.log", "wb")  # noqa: SIM115 - closed when the bench ends
        proc = subprocess.Popen([*base, name, *extra], stdout=out, stderr=out,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        stack.callback(out.close)
        stack.callback(_stop, proc)
    return config, store, f"http://127.0.0.1:{gallery_port}"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def publish_to_visible(browser: Any, folder: Path, runs: int, blocked: bool) -> list[float]:
    """Seconds from each publish request to its thumbnail loaded in the tab."""
    from support.live_channel import LiveChannel
    from support.publications import import_samples
    from support.samples import SAMPLES

    from appliance.publish.worker import Publisher

    with ExitStack() as stack:
        channel = stack.enter_context(LiveChannel(SECRET))
        config, store, gallery = _services(stack, folder, channel.url)
        ids = import_samples(config, store, SAMPLES)
        page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        stack.callback(page.close)
        if blocked:
            page.route_web_socket("**/live/**", lambda ws: ws.close())
        page.add_init_script(f"({LOADED_JS})()")
        page.goto(f"{gallery}/?event=wedding")
        if not blocked:
            page.wait_for_function("() => window.gallery.state.pushing === true", timeout=20_000)
        publisher = Publisher(config, store)
        times = []
        for i in range(runs):
            start = time.time()
            pub_id = publisher.request(ids[i % len(ids)], {})
            name = store.publication(pub_id)["name"]
            page.wait_for_function("n => window.__loaded && n in window.__loaded", arg=name, timeout=60_000)
            times.append(page.evaluate("n => window.__loaded[n]", name) / 1000 - start)
            time.sleep(1.1)  # one manifest write a second per event: publishes not folded together
        return times


def requests_per_guest_hour(browser: Any, folder: Path) -> dict[str, float]:
    """HTTP requests of one idle tab with push open over one simulated hour."""
    from support import gallery as gf
    from support.live_channel import LiveChannel

    with LiveChannel(SECRET) as channel, gf.GalleryServer(poll_seconds=10,
                                                          live_base=f"{channel.url}/live") as server:
        ev = server.event("idle")
        for i in range(24):
            ev.add(f"IMG_{i:04d}")
        server.publish("idle")
        page = browser.new_page(viewport={"width": 390, "height": 844})
        counted: list[str] = []
        page.on("request", lambda r: counted.append("manifest") if "manifest.json" in r.url else None)
        page.on("websocket", lambda ws: counted.append("websocket"))
        page.clock.install()
        page.goto(f"{server.url}/?event=idle")
        page.wait_for_function("() => window.gallery.state.pushing === true", timeout=20_000)
        before = len(counted)
        start = time.monotonic()
        for _ in range(720):  # 720 × 5 s = one hour; a ping's pong comes back over the real socket
            page.clock.run_for(5_000)
            page.wait_for_function("() => !window.gallery.push.pongDue", timeout=10_000)
        per_hour = len(counted) - before
        kinds = {k: counted[before:].count(k) for k in ("manifest", "websocket")}
        still = page.evaluate("window.gallery.state.pushing")
        page.close()
        return {"per_hour": per_hour, "kinds": kinds, "first_load": before, "still_pushing": still,
                "real_s": time.monotonic() - start}
