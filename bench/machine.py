"""What a figure was measured on: CPU model, cores and load, in every bench's last-line JSON.

Figures are compared across machines (the one a goal was tuned on, a fresh CI machine, a Pi), so
each run says which CPU it ran on and how busy the machine was. A run whose load average is above
the core count says so: its figures are not comparable.
"""

from __future__ import annotations

import logging
import os
import platform
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

# What report() adds to every figure set (tests/test_docs.py reads this tuple).
MACHINE_KEYS = ("cpu_model", "cores", "load_average", "steal_percent", "under_load")
# A virtual machine whose host took more than this share of its CPU time ran on borrowed cores.
STEAL_LIMIT_PERCENT = 10.0


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux; 'Model' on a Pi's ARM kernel)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_ticks() -> tuple[int, int]:
    """(steal, total) CPU ticks since boot from /proc/stat; (0, 0) where there is none."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    except (OSError, ValueError, IndexError):
        return 0, 0
    return fields[7] if len(fields) > 7 else 0, sum(fields)


def describe() -> dict[str, object]:
    """``cpu_model``, ``cores`` and the 1-minute ``load_average`` now (and the CPU ticks so far,
    for the steal of the run: see :func:`report`)."""
    steal, total = cpu_ticks()
    return {"cpu_model": cpu_model(), "cores": os.cpu_count() or 1,
            "load_average": round(os.getloadavg()[0], 2), "_ticks": (steal, total)}


def under_load(machine: dict[str, object]) -> str | None:
    """A warning line when the machine was busier than its cores, or a virtual machine's host
    took a large share of its CPU time (steal), else None."""
    load, cores = float(machine["load_average"]), int(machine["cores"])  # type: ignore[arg-type]
    steal = float(machine["steal_percent"])  # type: ignore[arg-type]
    if load > cores:
        return (f"UNDER LOAD: load average {load:.2f} > {cores} cores; these figures are not "
                "comparable with a quiet run")
    if steal > STEAL_LIMIT_PERCENT:
        return (f"UNDER LOAD: the host took {steal:.0f}% of this machine's CPU time (steal); "
                "these figures are not comparable with a quiet run")
    return None


def spread(values: list[float], digits: int = 3) -> tuple[float, list[float]]:
    """(median, [min, max]) of repeated measurements, rounded."""
    return (round(statistics.median(values), digits),
            [round(min(values), digits), round(max(values), digits)])


def report(figures: dict[str, object], at_start: dict[str, object]) -> dict[str, object]:
    """The figures with the machine added (load: what else ran when the run started; steal: the
    share of CPU time the host took over the run); prints the under-load warning where it applies."""
    machine = describe()
    # The load when the run started: at its end the 1-minute average counts the bench's own work.
    machine["load_average"] = at_start["load_average"]
    (steal0, total0), (steal1, total1) = at_start["_ticks"], machine.pop("_ticks")  # type: ignore[misc]
    machine["steal_percent"] = round(100 * (steal1 - steal0) / max(1, total1 - total0), 1)
    warning = under_load(machine)
    if warning:
        print(warning)
    machine["under_load"] = warning is not None
    assert tuple(machine) == MACHINE_KEYS
    return {**figures, **machine}


def measure(figures: list[Callable[[Path, bool], dict[str, object]]], quick: bool,
            quiet: tuple[str, ...] = ()) -> dict[str, object]:
    """Run each figure function in a scratch folder of its own and :func:`report` what they return
    (``quiet``: loggers that would print a line per request)."""
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)
    at_start = describe()  # the load before this run adds its own
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as folder:
        for figure in figures:
            work = Path(folder) / figure.__name__
            work.mkdir()
            results.update(figure(work, quick))
    return report(results, at_start)
