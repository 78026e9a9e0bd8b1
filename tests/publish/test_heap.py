"""heap: a photo's freed buffers stay for the next one, and go back to the system when asked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from appliance.publish import heap

pytestmark = pytest.mark.skipif(heap._glibc() is None, reason="64-bit glibc only")

ROOT = Path(__file__).resolve().parents[2]
# In a child process: the thresholds are process-wide (and would change every other test's heap).
SCRIPT = textwrap.dedent("""
    import json, resource, sys
    from PIL import Image
    from appliance.publish import heap

    kept = sys.argv[1] == "keep" and heap.keep_freed_memory()

    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

    def rss_mb():
        return int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() >> 20

    def photo():  # 48 MB of pixels written, then freed: like a 45 MP photo's decoded frame
        Image.new("RGB", (4000, 3000), (10, 20, 30))

    photo()
    start = faults()
    photo()
    print(json.dumps({"kept": kept, "faults": faults() - start, "rss_mb": rss_mb(),
                      "gave_back": heap.give_back(), "rss_after_mb": rss_mb()}))
""")


def child(script: str, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items()  # no inherited allocator settings
           if not k.startswith(("GLIBC_TUNABLES", "MALLOC_", "PILLOW_"))}
    result = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True)
    return json.loads(result.stdout)


def run(mode: str) -> dict:
    return child(SCRIPT, mode)


def test_the_next_photo_reuses_the_freed_memory():
    default, kept = run("default"), run("keep")
    assert kept["kept"] and not default["kept"]
    assert kept["rss_mb"] - default["rss_mb"] > 30  # by default glibc gave the 48 MB back...
    assert kept["faults"] < 1_000  # ...kept, the next photo writes to the same pages


def test_give_back_returns_what_was_kept():
    kept = run("keep")
    assert kept["rss_mb"] - kept["rss_after_mb"] > 30 and kept["gave_back"]


BURST = textwrap.dedent("""
    import json, resource
    from PIL import Image
    from appliance.publish import heap

    def rss_mb():
        return int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() >> 20

    burst = heap.Burst()
    quiet = burst.idle()  # nothing done yet: nothing to give back
    Image.new("RGB", (4000, 3000), (10, 20, 30))
    burst.worked()
    during = rss_mb()
    ended = burst.idle()
    print(json.dumps({"keeping": burst.keeping, "quiet": quiet, "during_mb": during,
                      "ended": ended, "after_mb": rss_mb(), "again": burst.idle()}))
""")


def test_a_burst_keeps_memory_until_the_queue_is_empty():
    burst = child(BURST)
    assert burst["keeping"] and not burst["quiet"] and burst["ended"] and not burst["again"]
    assert burst["during_mb"] - burst["after_mb"] > 30
