"""A WSGI app (the admin, the local gallery) served on 127.0.0.1 for browser tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    """No access log line per request."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextmanager
def serving_app(app: Any) -> Iterator[str]:
    """Serve ``app`` (a thread per request) until the block ends; yields its base URL."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(5)
