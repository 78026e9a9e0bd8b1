"""The second copy: every original (buffer photo, archived RAW file) mirrored to a second drive
and/or a second bucket prefix, at idle priority, never in the way of a publish.

Progress lives in the store (``second_copies``), written only once a copy is verified, so a
restart or a power cut resumes where it stopped: a copy cut short leaves at most a locked temp
file on the drive, removed the next time the drive is attached; nothing partial ever has a final
name. A missing drive or an unreachable bucket is a warning shown in the admin and the doctor; it
never stops anything else, and the copier carries on when the target is back.

Copies already made are looked after too: when the drive (re)appears every copy is checked to be
there at its size (a swapped or emptied drive is filled again), and while there is nothing to
copy each copy is read back in full every ``second_copy.recheck_days``; a damaged one is redone.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from ..config import Config
from ..ingest.verified_copy import Aborted, SourceChanged, SourceGone
from ..store import Store, utcnow
from .second_copy_targets import Original, SourceDamaged, Unavailable

log = logging.getLogger(__name__)

BATCH = 100  # originals fetched from the store at once
RECHECK_BATCH = 5  # copies read back per pass while idle
RETRY_S = 30.0  # a target whose write failed (drive full, bucket error) is tried again after this


class Target(Protocol):
    name: str
    label: str

    def problem(self) -> str: ...

    def attached(self) -> None: ...

    def failed(self) -> None: ...

    def holds(self, original: Original) -> bool: ...

    def copy(self, original: Original, source: Any, abort: threading.Event,
             progress: Callable[[int], None]) -> None: ...

    def verify(self, original: Original, abort: threading.Event) -> bool: ...


class SecondCopier:
    """Copies what each target lacks, one file at a time, recording each verified copy."""

    def __init__(self, config: Config, store: Store, targets: list[Target]) -> None:
        self.config = config
        self.store = store
        self.targets = targets
        self.folders = {"buffer": config.folder("buffer"), "archive": config.folder("archive")}
        self.present: dict[str, bool] = {}  # target -> its last look found it usable
        self.retry_at: dict[str, float] = {}  # target -> when to try again after a failed write
        self.retry_seconds = RETRY_S
        self.damaged: set[str] = set()  # originals whose first copy is damaged (not copied again)
        self.abort = threading.Event()
        self.progress_at = time.monotonic()  # when the copy in progress last moved bytes
        self.copies = 0  # verified copies made since start
        for name in {"drive", "bucket"} - {t.name for t in targets}:
            store.remove_second_copy_target(name)  # switched off: no longer shown

    def step(self, keep_going: Callable[[], bool] = lambda: True) -> int:
        """One pass over every target; the number of copies made (0: nothing to do now)."""
        before = self.copies
        for target in self.targets:
            if not self._ready(target):
                continue
            start = self.copies
            try:
                self._copy_pending(target, keep_going)
                if self.copies == start and keep_going():
                    self._recheck(target, keep_going)
            except (Unavailable, OSError, BotoCoreError, ClientError) as exc:
                self._trouble(target, exc)
        return self.copies - before

    def _ready(self, target: Target) -> bool:
        """Is the target usable now? Records its state; a target coming back is looked over first;
        one whose last write failed waits ``retry_seconds``."""
        problem = target.problem()
        if problem:
            if self.present.get(target.name) is not False:
                log.warning("second copy: %s", problem)
            self.present[target.name] = False
            self.store.set_second_copy_target(target.name, name=target.label, available=0,
                                              problem=problem)
            return False
        if not self.present.get(target.name):
            target.attached()
            self._look_over(target)
            self.present[target.name] = True
            self.retry_at.pop(target.name, None)
            self.store.set_second_copy_target(target.name, name=target.label, available=1,
                                              problem=None)
        return time.monotonic() >= self.retry_at.get(target.name, 0.0)

    def _look_over(self, target: Target) -> None:
        """Forget copies the drive does not hold at their size (swapped, emptied, damaged drive)."""
        if target.name != "drive":
            return
        missing = [o["sha256"] for o in self.store.second_copies_held(target.name)
                   if not target.holds(o)]
        if missing:
            log.warning("second copy: %d copies missing on %s, copying them again", len(missing),
                        target.label)
            self.store.forget_second_copies(target.name, missing)

    def _copy_pending(self, target: Target, keep_going: Callable[[], bool]) -> None:
        uplink = target.name == "bucket"
        while keep_going():
            batch = [o for o in self.store.second_copy_pending(target.name, BATCH + len(self.damaged))
                     if o["sha256"] not in self.damaged][:BATCH]
            if not batch:
                break
            for original in batch:
                if not keep_going() or self.store.publish_busy(uplink):
                    return  # a publish is running: come back when it is done
                self._copy_one(target, original)

    def _copy_one(self, target: Target, original: Original) -> None:
        source = self.folders[original["folder"]] / original["path"]
        try:
            if not source.is_file():
                raise SourceChanged(errno.ENOENT, f"{source} is missing")
            target.copy(original, source, self.abort, self._progress)
        except Aborted:
            return
        except (SourceDamaged, SourceChanged, SourceGone) as exc:
            # the first copy is damaged, unreadable or gone: reported, left for people to look at
            self.damaged.add(original["sha256"])
            log.error("second copy: %s", exc.strerror)
            self.store.set_second_copy_target(target.name, last_error=exc.strerror,
                                              last_error_at=utcnow())
            return
        self.store.record_second_copy(target.name, original["sha256"], original["size"])
        self.copies += 1
        if self.retry_at.pop(target.name, None) is not None:  # working again after a failure
            self.store.set_second_copy_target(target.name, available=1, problem=None)

    def _progress(self, n: int) -> None:
        self.progress_at = time.monotonic()

    def _recheck(self, target: Target, keep_going: Callable[[], bool]) -> None:
        """Read back the least recently checked copies that are due; redo damaged ones."""
        days = self.config.second_copy.recheck_days
        if days <= 0:
            return
        due = self.store.second_copies_held(target.name, time.time() - days * 86400, RECHECK_BATCH)
        for original in due:
            if not keep_going() or self.store.publish_busy(target.name == "bucket"):
                return
            if target.verify(original, self.abort):
                self.store.second_copy_checked(target.name, original["sha256"])
                continue
            log.warning("second copy: %s on %s is damaged or gone, copying it again",
                        original["path"], target.label)
            self.store.forget_second_copies(target.name, [original["sha256"]])

    def _trouble(self, target: Target, exc: BaseException) -> None:
        """A write failed (drive pulled or full, bucket down): a warning; tried again later."""
        text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        if target.name not in self.retry_at:
            log.warning("second copy to %s: %s", target.label, text)
        self.retry_at[target.name] = time.monotonic() + self.retry_seconds
        target.failed()
        self.store.set_second_copy_target(target.name, last_error=text, last_error_at=utcnow(),
                                          available=0, problem=f"{target.label}: {text}")

    def summary(self) -> str:
        """One line per target: "second copy (drive BACKUP): 1,204 / 1,210, 6 pending"."""
        return "; ".join(summary_line(t) for t in self.store.second_copy_targets()) or "second copy off"


def summary_line(row: dict[str, Any]) -> str:
    """What people read: counts, and why the target is not taking copies when it is not."""
    where = f"{row['target']} {row['name']}".strip()
    line = f"second copy ({where}): {row['done']:,} / {row['total']:,}, {row['pending']:,} pending"
    return line + (f" — {row['problem']}" if row.get("problem") else "")
