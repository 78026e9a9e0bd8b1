"""gunicorn settings suited to a Pi: two workers with a few threads, short timeouts, no SD-card churn."""

import os

bind = os.environ.get("APPLIANCE_ADMIN_BIND", "0.0.0.0:8080")
workers = int(os.environ.get("APPLIANCE_ADMIN_WORKERS", "2"))
worker_class = "gthread"  # threads: the admin waits on SQLite and the image pipeline, not the network
threads = 4
timeout = 30
graceful_timeout = 5
keepalive = 5  # phones reuse connections for the thumbnail grid
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeats off the SD card
max_requests = 2000  # recycle workers now and then: bounded memory on a small board
max_requests_jitter = 200
accesslog = None
errorlog = "-"
