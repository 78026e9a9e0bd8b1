"""Waiting for something that happens in another thread, process or machine."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(condition: Callable[[], Any], timeout: float, what: str | None = None, *,
             every: float = 0.1, check: Callable[[], None] = lambda: None,
             ignoring: tuple[type[BaseException], ...] = ()) -> Any:
    """Poll ``condition`` every ``every`` seconds until it answers something truthy; returns that.

    ``check`` runs before each poll (an invariant that must hold all along); an exception of one
    of the ``ignoring`` types counts as "not yet" (a service still starting). Fails after
    ``timeout`` seconds naming ``what`` and the last answer.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        check()
        try:
            last = condition()
        except ignoring as exc:
            last = exc
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition} "
                                 f"(last: {last!r})")
        time.sleep(every)
