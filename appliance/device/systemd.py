"""What every long-running service shares: signals, sd_notify readiness/status/watchdog, logging.

Under systemd (``Type=notify``) a service sends ``READY=1`` only once it can do its work, a
``STATUS=`` line whenever what it is doing changes, and ``WATCHDOG=1`` from its main loop (a hung
loop stops the pings and systemd restarts the service). Readiness is also recorded in the store
(setting ``service:<name>``) so the status LED can show "starting" until every service is up.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)

try:  # systemd-python is Linux-only; on a laptop without it, notifications are no-ops
    from systemd import daemon as _daemon
except ImportError:  # pragma: no cover
    _daemon = None

# Services whose readiness the status LED waits for (the admin and gpio report too).
CORE_SERVICES = ("importer", "publisher", "sync")


def notify(message: str) -> bool:
    """Send an sd_notify message (READY=1, STATUS=..., WATCHDOG=1) when run by systemd."""
    if _daemon is None or not os.environ.get("NOTIFY_SOCKET"):
        return False
    return bool(_daemon.notify(message))


def watchdog_seconds() -> float | None:
    """The watchdog timeout systemd set for this process (``WatchdogSec=``), or None."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid.isdigit() and int(pid) != os.getpid()):
        return None
    try:
        seconds = int(usec) / 1_000_000
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def boot_id() -> str:
    """This boot's id (readiness recorded in an earlier boot does not count).

    The units pass it as ``APPLIANCE_BOOT_ID=%b`` because ``ProcSubset=pid`` hides /proc/sys.
    """
    value = os.environ.get("APPLIANCE_BOOT_ID", "")
    if not value:
        try:
            value = Path("/proc/sys/kernel/random/boot_id").read_text()
        except OSError:  # pragma: no cover - not Linux
            return ""
    return value.strip().replace("-", "").lower()


class JournalFields(logging.Filter):
    """Adds journald fields to every record: the service name (``APPLIANCE_SERVICE``)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.APPLIANCE_SERVICE = self.service
        return True


def _journal_is_stderr() -> bool:
    """True when systemd connected stderr to the journal (``$JOURNAL_STREAM`` = dev:inode)."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    dev, _, ino = stream.partition(":")
    try:
        st = os.fstat(2)
        return bool(stream) and (st.st_dev, st.st_ino) == (int(dev), int(ino))
    except (OSError, ValueError):
        return False


def setup_logging(name: str) -> None:
    """Log to journald with structured fields under systemd, else to stderr.

    In the journal every entry carries ``SYSLOG_IDENTIFIER=appliance-<name>``,
    ``APPLIANCE_SERVICE=<name>``, ``PRIORITY``, ``LOGGER``, ``CODE_FILE``/``CODE_LINE``/``CODE_FUNC``
    and ``THREAD_NAME``, so ``journalctl APPLIANCE_SERVICE=sync -p warning`` finds what went wrong.
    """
    level = os.environ.get("APPLIANCE_LOG_LEVEL", "INFO").upper()
    handler: logging.Handler | None = None
    if _journal_is_stderr():
        try:
            from systemd.journal import JournalHandler

            handler = JournalHandler(SYSLOG_IDENTIFIER=f"appliance-{name}")
            handler.setFormatter(logging.Formatter("%(message)s"))
        except ImportError:  # pragma: no cover
            handler = None
    if handler is None:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(f"%(asctime)s {name} %(levelname)s %(message)s"))
    handler.addFilter(JournalFields(name))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class Service:
    """A service's life cycle: stop on SIGTERM/SIGINT, tell systemd how it is doing."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stopping = threading.Event()
        self._status = ""
        self._store_path: Path | None = None
        self._watchdog = watchdog_seconds()
        self._last_ping = 0.0
        setup_logging(name)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        log.info("%s stopping (signal %d)", self.name, signum)
        self.stopping.set()

    def running(self) -> bool:
        return not self.stopping.is_set()

    def ready(self, status: str, store: Any = None) -> None:
        """Tell systemd (and, given a store, the other services) that the service can do its work."""
        log.info("%s ready: %s", self.name, status)
        self._status = status
        if store is not None:
            self._store_path = store.path
            self._record(store, "ready", status)
        notify(f"READY=1\nSTATUS={status}")
        self._ping(force=True)

    def status(self, text: str) -> None:
        """Update the one-line STATUS systemctl shows (sent only when it changes)."""
        if text != self._status:
            self._status = text
            notify(f"STATUS={text}")

    def alive(self) -> None:
        """Watchdog ping: call once per turn of the main loop (and per item of long work)."""
        self._ping()

    def _ping(self, force: bool = False) -> None:
        if self._watchdog is None:
            return
        now = time.monotonic()
        if force or now - self._last_ping >= self._watchdog / 4:
            self._last_ping = now
            notify("WATCHDOG=1")

    def sleep(self, seconds: float) -> None:
        """Sleep up to ``seconds`` (less when stopping), pinging the watchdog if the nap is long."""
        deadline = time.monotonic() + seconds
        while not self.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            step = left if self._watchdog is None else min(left, self._watchdog / 4)
            self.stopping.wait(step)
            self._ping()

    def stopped(self) -> None:
        """Tell systemd the service is shutting down; record it in the store."""
        notify("STOPPING=1\nSTATUS=stopping")
        if self._store_path is not None:
            from ..store import Store

            try:
                store = Store(self._store_path)
                try:
                    self._record(store, "stopped", "stopped")
                finally:
                    store.close()
            except Exception as exc:  # stopping must not fail on a busy store
                log.warning("could not record %s as stopped: %s", self.name, exc)

    def _record(self, store: Any, state: str, status: str) -> None:
        store.set_setting(f"service:{self.name}", {
            "state": state, "status": status, "pid": os.getpid(), "boot_id": boot_id(),
            "at": time.time(),
        })


def services_ready(store: Any, names: tuple[str, ...] = CORE_SERVICES) -> bool:
    """True when every named service reported ready during this boot and has not stopped."""
    current = boot_id()
    for name in names:
        record = store.get_setting(f"service:{name}")
        if not record or record.get("state") != "ready" or record.get("boot_id") != current:
            return False
    return True
