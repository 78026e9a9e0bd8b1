"""gunicorn settings suited to a Pi: two workers with a few threads, short timeouts, no SD-card churn.

Under systemd (``Type=notify``) gunicorn's arbiter sends ``READY=1`` itself once it listens. With
``WatchdogSec=`` set, :func:`when_ready` starts a thread in the arbiter that sends ``WATCHDOG=1``
only while at least one worker has shown a sign of life within ``timeout`` (workers touch their
heartbeat file every turn of their loop): a wedged arbiter or workers that never come back stop
the pings and systemd restarts the admin.
"""

import os
import threading
import time

bind = os.environ.get("APPLIANCE_ADMIN_BIND", "0.0.0.0:8080")
workers = int(os.environ.get("APPLIANCE_ADMIN_WORKERS", "2"))
worker_class = "gthread"  # threads: the admin waits on SQLite and the image pipeline, not the network
threads = 4
timeout = int(os.environ.get("APPLIANCE_ADMIN_TIMEOUT", "30"))
graceful_timeout = 5
keepalive = 5  # phones reuse connections for the thumbnail grid
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeats off the SD card
max_requests = 2000  # recycle workers now and then: bounded memory on a small board
max_requests_jitter = 200
accesslog = None
errorlog = "-"
# The app (and its config check) loads in the arbiter before READY=1; workers share it copy-on-write.
preload_app = True
# No gunicornc control socket: nothing uses it, and the hardened unit gives gunicorn no home to put it in.
control_socket_disable = True


def _watchdog_interval():
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid.isdigit() and int(pid) != os.getpid()):
        return None
    return int(usec) / 1_000_000 / 4


def workers_alive(server, max_age):
    """True when some worker touched its heartbeat within ``max_age`` seconds."""
    now = time.monotonic()
    for worker in list(server.WORKERS.values()):
        try:
            if now - worker.tmp.last_update() <= max_age:
                return True
        except (OSError, ValueError):
            continue
    return False


def when_ready(server):
    """Start the watchdog thread and say what the admin is doing (STATUS=)."""
    from appliance.device.systemd import notify

    interval = _watchdog_interval()
    status = f"serving the admin on {bind} with {workers} workers"
    notify(f"STATUS={status}")
    if interval is None:
        return

    def ping():
        booted = time.monotonic()
        shown = status
        while True:
            # Workers need a moment to boot; after that, stale heartbeats stop the pings.
            if workers_alive(server, timeout) or time.monotonic() - booted < timeout:
                notify("WATCHDOG=1")
                if shown != status:
                    shown = status
                    notify(f"STATUS={status}")
            elif shown == status:
                shown = "no worker is answering"
                notify(f"STATUS={shown}")
            time.sleep(interval)

    threading.Thread(target=ping, name="watchdog", daemon=True).start()
