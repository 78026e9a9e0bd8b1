"""What a service loop asks of whoever runs it (under systemd: :class:`appliance.device.systemd.Service`).

The loops live in their stage (``ingest/service.py``, ``publish/service.py``, ``sync/service.py``)
and get their runner passed in, so a stage never imports the device layer.
"""

from __future__ import annotations

from typing import Any, Protocol


class Lifecycle(Protocol):
    def running(self) -> bool: ...

    def ready(self, status: str, store: Any = None) -> None: ...

    def status(self, text: str) -> None: ...

    def alive(self) -> None: ...

    def sleep(self, seconds: float) -> None: ...
