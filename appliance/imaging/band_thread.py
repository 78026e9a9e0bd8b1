"""The band thread: makes a photo's bands (:mod:`.bands`) on a second core while the first decodes.

Bands are planned in the decoding thread from the row counts alone and queued in order; the band
thread takes them from the queue. A turn waits until the resamples it reads are made. Once the
decode is done the decoding thread takes bands from the same queue too, so whatever the band thread
had not caught up with is made on both cores, and a failure in either thread stops both.
"""

from __future__ import annotations

import threading
from collections import deque

from PIL import Image

from .bands import RESAMPLE, TURN, Bands, Task


class BandThread:
    """Makes a :class:`Bands`' bands in its own thread while the calling thread decodes; once the
    decode is done, the calling thread takes bands from the same queue (:meth:`finish`), so
    whatever the band thread had not caught up with is shared between two cores."""

    def __init__(self, bands: Bands) -> None:
        self.bands = bands
        self.tasks: deque[tuple[Image.Image, Task]] = deque()
        self.done: set[int] = set()  # resample tasks made, by number
        self.made = 0  # resample tasks 0..made-1 are all made
        self.cond = threading.Condition()
        self.closing = False
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="bands", daemon=True)
        self.thread.start()

    def rows_ready(self, frame: Image.Image, rows: int) -> None:
        """Plan the bands these rows allow (in this thread, in order) and queue them."""
        self._queue(frame, self.bands.plan(rows))

    def _queue(self, frame: Image.Image, tasks: list[Task]) -> None:
        if tasks:
            with self.cond:
                self.tasks.extend((frame, task) for task in tasks)
                self.cond.notify_all()

    def _next(self, wait: bool) -> tuple[Image.Image, Task] | None:
        """The next band to make, once what it reads is made; None when there is none (or an error)."""
        with self.cond:
            while not self.tasks and wait and not self.closing and self.error is None:
                self.cond.wait()
            if not self.tasks or self.error is not None:
                return None
            frame, task = self.tasks.popleft()
            if task.kind == TURN:
                self.cond.wait_for(lambda: self.made >= task.after or self.error is not None)
                if self.error is not None:
                    return None
            return frame, task

    def _make(self, frame: Image.Image, task: Task) -> None:
        try:
            self.bands.run(frame, task)
        except BaseException as exc:  # handed to the caller in finish()
            with self.cond:
                self.error = self.error or exc
                self.tasks.clear()
                self.cond.notify_all()
            return
        if task.kind == RESAMPLE:
            with self.cond:
                self.done.add(task.after)
                while self.made in self.done:
                    self.made += 1
                self.cond.notify_all()

    def _work(self) -> None:
        while (item := self._next(wait=True)) is not None:
            self._make(*item)

    def finish(self, frame: Image.Image) -> Image.Image:
        """Queue the last bands (every row is decoded), make bands here too until none is left,
        and return the upright output; raise what went wrong in either thread."""
        self._queue(frame, self.bands.plan(self.bands.frame_size[1]))
        while (item := self._next(wait=False)) is not None:
            self._make(*item)
        self._stop()
        if self.error is not None:
            raise self.error
        return self.bands.output

    def cancel(self) -> None:
        """Stop without making the bands still waiting (the decode failed)."""
        with self.cond:
            self.tasks.clear()
        self._stop()

    def _stop(self) -> None:
        with self.cond:
            self.closing = True
            self.cond.notify_all()
        self.thread.join()
