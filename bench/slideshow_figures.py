#!/usr/bin/env python3
"""Slideshow figure of bench/gallery.py: slideshow_heap_growth_mb_8h.

    .venv/bin/python bench/slideshow_figures.py [--quick]

The real web/slideshow.html in Debian's headless Chromium (1920 × 1080) against
tests/support/gallery.py's server (the Pages Function's ETag/304 behaviour), polling every 10 s as
configured, one photo every 8 s. Playwright's clock API drives the page's timers through 8 simulated
hours while the server publishes 2,500 photos at an even pace (one every 11.5 s, each a new
manifest). Network requests and image decoding are real; the fake clock stands still while they are
in flight, and every step waits for the page to settle (no photo loading, no poll in flight).

Full run: 8 s steps, so every slide change of the 8 h happens (3,600). --quick: 120 s steps (the
same 8 h, 2,500 photos and 240 manifests, but one slide change per step).

Heap: Chromium's JS heap (CDP Runtime.getHeapUsage) after forced garbage collections
(HeapProfiler.collectGarbage), once the first 10 simulated minutes are over (code loaded and
compiled, first photos shown) and at the end; the growth includes what the slideshow must hold,
the latest manifest of 2,500 photos (its entries; the manifest's text may be a string Blink owns
outside the JS heap, so its size is printed beside it). Chromium's DOM node and event-listener
counters (CDP Memory.getDOMCounters) at both moments show the page itself does not grow. Decoded
images live outside the JS heap: the page keeps at most two. MB = 1,000,000 bytes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import gallery as gf  # noqa: E402  (tests/support/gallery.py)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HOURS = 8
PHOTOS = 2500
SLIDE_S = 8
WARM_UP_S = 600
GOAL_MB = 10
SETTLED = "() => { const s = window.slideshow; return !!s && !s.show.busy && !s.state.inFlight; }"


def _settle(page: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(SETTLED):
        if time.monotonic() > deadline:
            raise TimeoutError("the slideshow did not settle")
        time.sleep(0.005)


def _heap(cdp: Any) -> int:
    for _ in range(2):
        cdp.send("HeapProfiler.collectGarbage")
    return int(cdp.send("Runtime.getHeapUsage")["usedSize"])


def slideshow_heap_growth(browser: Any, quick: bool) -> dict[str, Any]:
    """JS heap growth of the slideshow over 8 simulated hours with 2,500 photos arriving."""
    step_s = 120 if quick else SLIDE_S
    total_s = HOURS * 3600
    every_s = total_s / PHOTOS
    with gf.GalleryServer(poll_seconds=10) as server:
        ev = server.event("bench-show", title="Anna & Ben")
        ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        cdp = ctx.new_cdp_session(page)
        cdp.send("HeapProfiler.enable")
        added = 0
        t0 = time.monotonic()
        try:
            page.clock.install()
            page.goto(f"{server.url}/slideshow?event=bench-show&interval={SLIDE_S}")
            page.wait_for_selector("html[data-state]")
            baseline = None
            dom0 = None
            for step in range(1, total_s // step_s + 1):
                now = step * step_s
                due = min(PHOTOS, int(now / every_s))
                if due > added:
                    for k in range(added, due):
                        ev.add(f"IMG_{k:05d}", 640, 427)  # small files: the server makes them all
                    added = due
                    server.publish("bench-show")
                page.clock.run_for(step_s * 1000)
                _settle(page)
                if baseline is None and now >= WARM_UP_S:
                    baseline = _heap(cdp)
                    dom0 = page.evaluate("document.getElementsByTagName('*').length")
                    counters0 = cdp.send("Memory.getDOMCounters")
            page.clock.run_for(30_000)  # the last manifest and slide in
            _settle(page)
            end = _heap(cdp)
            counters = cdp.send("Memory.getDOMCounters")
            info = page.evaluate("""() => ({
                dom: document.getElementsByTagName('*').length,
                imgs: document.querySelectorAll('img[src]').length,
                shown: window.slideshow.show.stats.shown, fresh: window.slideshow.show.stats.fresh,
                failed: window.slideshow.show.stats.failed, manifests: window.slideshow.show.stats.manifests,
                polls: window.slideshow.stats.polls, deck: window.slideshow.show.deck.list.length,
                queued: window.slideshow.show.deck.fresh.length,
                text: (window.slideshow.state.lastText || '').length })""")
        finally:
            ctx.close()
    assert baseline is not None
    growth = (end - baseline) / 1e6
    real_s = time.monotonic() - t0
    print(f"   {HOURS} simulated h in {step_s} s steps ({real_s:.0f} s real): {added:,} photos published, "
          f"{info['manifests']} manifests applied ({info['polls']} polls), {info['shown']:,} slides shown "
          f"({info['fresh']:,} as new arrivals, {info['failed']} failed), deck {info['deck']:,}, "
          f"queued {info['queued']}")
    print(f"   DOM elements {dom0} → {info['dom']}, images with a src at the end {info['imgs']}; "
          f"manifest text held {info['text'] / 1e6:.2f} MB")
    print("   Chromium's DOM counters (nodes, listeners): "
          f"{counters0['nodes']}, {counters0['jsEventListeners']} → {counters['nodes']}, "
          f"{counters['jsEventListeners']}")
    print(f"   JS heap after GC: {baseline / 1e6:.1f} MB at {WARM_UP_S // 60} min → {end / 1e6:.1f} MB at "
          f"{HOURS} h: growth {growth:.2f} MB   goal ≤ {GOAL_MB} MB")
    if errors:
        print(f"   page errors: {errors[:3]}")
    return {
        "slideshow_heap_growth_mb_8h": round(growth, 2),
        "slideshow_slides_shown_8h": info["shown"],
        "slideshow_dom_elements_end": info["dom"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--quick", action="store_true", help="120 s steps instead of 8 s (under a minute)")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing (apt install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    print("slideshow (web/slideshow.html), 1920 × 1080, polling 10 s, a photo every 8 s")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            result = slideshow_heap_growth(browser, args.quick)
        finally:
            browser.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
