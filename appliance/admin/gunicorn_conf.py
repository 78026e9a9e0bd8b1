"""gunicorn settings suited to a Pi: two workers with a few threads, short timeouts."""

import os

bind = os.environ.get("APPLIANCE_ADMIN_BIND", "0.0.0.0:8080")
workers = int(os.environ.get("APPLIANCE_ADMIN_WORKERS", "2"))
worker_class = "gthread"
threads = 4
timeout = 30
graceful_timeout = 5
accesslog = None
errorlog = "-"
