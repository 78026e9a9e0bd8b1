"""The import's thumbnail pool: threads at idle priority that make thumbnails and derive photos,
counting the work not yet finished so the store's thread can record each photo as it is ready."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ..lifecycle import idle_priority


class ThumbPool:
    """A :class:`ThreadPoolExecutor` of ``workers`` idle-priority threads whose jobs are counted
    until their follow-up (``then``, which hands the result to the store's thread) has run."""

    def __init__(self, workers: int) -> None:
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="thumb", initializer=idle_priority)
        self._left = 0
        self._lock = threading.Lock()

    def run(self, job: Callable[[Any], Any], arg: Any, then: Callable[[Future[Any]], None]) -> None:
        """``job(arg)`` on a pool thread, then ``then(future)`` (also when cancelled)."""
        with self._lock:
            self._left += 1
        future = self.executor.submit(job, arg)
        future.add_done_callback(then)
        future.add_done_callback(self._finished)  # callbacks run in order: after ``then``

    def _finished(self, _: Future[Any]) -> None:
        with self._lock:
            self._left -= 1

    @property
    def busy(self) -> bool:
        """Whether a job or its follow-up is still to finish."""
        with self._lock:
            return self._left > 0

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        self.executor.shutdown(wait=wait, cancel_futures=cancel_futures)
