"""The appliance's services as the tests run them: a free port to bind, the systemd side of their
NOTIFY_SOCKET, and the sync service loop in a thread."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable

from appliance.config import Config
from appliance.store import Store
from appliance.sync.syncer import Syncer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NotifyListener:
    """The systemd side of sd_notify: a datagram socket recording (time, message) pairs.

    Read all the time, like systemd reads it: a full socket blocks sd_notify, and systemd-python
    holds the GIL while it waits, freezing the whole service.
    """

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="nfy-", dir="/tmp")  # AF_UNIX paths are short
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages: list[tuple[float, str]] = []
        self.on_message: Callable[[str], None] = lambda text: None
        self._readies_seen = 0
        self._closed = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._closed:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            text = data.decode()
            self.on_message(text)
            self.messages.append((time.monotonic(), text))

    def fields(self, name: str) -> list[tuple[float, str]]:
        found = []
        for at, text in list(self.messages):
            for line in text.splitlines():
                key, _, value = line.partition("=")
                if key == name:
                    found.append((at, value))
        return found

    def wait(self, name: str, value: str | None = None, timeout: float = 20.0,
             after: float = 0.0) -> tuple[float, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, got in self.fields(name):
                if at >= after and (value is None or value in got):
                    return at, got
            time.sleep(0.02)
        raise AssertionError(f"no {name}={value or '*'} within {timeout}s; got {self.messages}")

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait for a READY=1 newer than the last one waited for (a restarted service says it again)."""
        deadline = time.monotonic() + timeout
        while len([v for _, v in self.fields("READY") if v == "1"]) <= self._readies_seen:
            assert time.monotonic() < deadline, f"the service never said READY=1 within {timeout}s"
            time.sleep(0.02)
        self._readies_seen += 1

    def pings(self, since: float, until: float) -> list[float]:
        return [at for at, _ in self.fields("WATCHDOG") if since <= at <= until]

    def close(self) -> None:
        self._closed = True
        self._thread.join(timeout=1)
        self.sock.close()
        os.unlink(self.path)
        os.rmdir(self.dir)


class SyncThread:
    """The sync service loop (``Syncer.run``) in a thread with its own store connection."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        store = Store(self.config.db_path)
        try:
            Syncer(self.config, store).run(lambda: not self.stop.is_set(), self.stop.wait)
        except BaseException as exc:  # noqa: BLE001 - reported by join()
            self.error = exc
        finally:
            store.close()

    def __enter__(self) -> SyncThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.join()

    def join(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "sync loop did not stop"
        if self.error:
            raise self.error
