"""What every long-running service shares: signals, sd_notify readiness/status/watchdog, logging."""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

log = logging.getLogger(__name__)

try:  # systemd-python is Linux-only; on a laptop without it, notifications are no-ops
    from systemd import daemon as _daemon
except ImportError:  # pragma: no cover
    _daemon = None


def notify(message: str) -> None:
    """Send an sd_notify message (READY=1, STATUS=..., WATCHDOG=1) when run by systemd."""
    if _daemon is not None and os.environ.get("NOTIFY_SOCKET"):
        _daemon.notify(message)


def setup_logging(name: str) -> None:
    """Log to stderr (journald captures it under systemd) with the service name."""
    level = os.environ.get("APPLIANCE_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format=f"%(asctime)s {name} %(levelname)s %(message)s")


class Service:
    """A service's life cycle: stop on SIGTERM/SIGINT, tell systemd how it is doing."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stopping = threading.Event()
        self._status = ""
        setup_logging(name)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        log.info("%s stopping (signal %d)", self.name, signum)
        self.stopping.set()

    def running(self) -> bool:
        return not self.stopping.is_set()

    def ready(self, status: str) -> None:
        """Tell systemd the service can do its work."""
        log.info("%s ready: %s", self.name, status)
        self._status = status
        notify(f"READY=1\nSTATUS={status}")

    def status(self, text: str) -> None:
        if text != self._status:
            self._status = text
            notify(f"STATUS={text}")

    def alive(self) -> None:
        """Watchdog ping: call once per turn of the main loop."""
        notify("WATCHDOG=1")

    def sleep(self, seconds: float) -> None:
        self.stopping.wait(seconds)
