"""What a service loop asks of whoever runs it (under systemd: :class:`appliance.device.systemd.Service`).

The loops live in their stage (``ingest/service.py``, ``publish/service.py``, ``sync/service.py``)
and get their runner passed in, so a stage never imports the device layer.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Protocol


class Lifecycle(Protocol):
    def running(self) -> bool: ...

    def ready(self, status: str, store: Any = None) -> None: ...

    def status(self, text: str) -> None: ...

    def alive(self) -> None: ...

    def sleep(self, seconds: float) -> None: ...


def idle_priority() -> None:
    """Run the calling thread only on CPU nothing else wants (Linux SCHED_IDLE, else nice 19)."""
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # pid 0: this thread
        return
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, 0, 19)
