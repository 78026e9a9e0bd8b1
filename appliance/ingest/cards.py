"""Card detection with pyudev: every inserted card or SSD with a filesystem gets imported.

The importer service listens to block-device events (udev's when udevd runs, else the kernel's)
and handles each card in its own thread: probe the filesystem, make the device read-only, mount it
under ``importer.mount_root/<filesystem UUID>``, import, unmount, record "safe to remove". udev
itself never waits on a mount: there is no udev rule, the service does the work.

Ignored: the system disk (and any disk holding a mounted filesystem not mounted by us), devices
without a filesystem (partition tables, blank media, swap), unsupported filesystems, and loop
devices, except those backed by an image file inside ``importer.card_images`` (tests, demos); and
the drive labelled ``second_copy.drive_label``: the second-copy service mounts that one read-write
(:mod:`.second_drive`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Config
from ..store import CardState, ImportState, Store
from .block_devices import (
    SUPPORTED_FS,
    BlockEvent,
    Filesystem,
    filesystem_of,
    ignore_reason,
    media_present,
    mount_dir_name,
    probe,
    system_disks,
)
from .import_types import ImportReport
from .importer import Importer
from .mounts import Mounter, MountError, make_mounter, mount_table, release, set_read_only
from .second_drive import is_second_drive

log = logging.getLogger(__name__)

class CardJob(threading.Thread):
    """One inserted card from probe to "safe to remove"."""

    def __init__(self, manager: CardManager, event: BlockEvent) -> None:
        super().__init__(name=f"card-{event.sys_name}", daemon=True)
        self.manager = manager
        self.event = event
        self.abort = threading.Event()
        self.report: ImportReport | None = None
        self.identity: tuple[str, str] | None = None
        self.card_id: int | None = None
        self.outcome = "running"

    def device_gone(self) -> None:
        self.abort.set()

    def run(self) -> None:
        store = Store(self.manager.config.db_path)
        try:
            self._run(store)
        except Exception as exc:  # a card must never take the service down
            log.exception("card %s failed", self.event.node)
            if self.card_id is not None:
                store.set_card(self.card_id, state=CardState.ERROR,
                               error=f"{type(exc).__name__}: {exc}")
        finally:
            store.close()

    def _run(self, store: Store) -> None:
        config, event = self.manager.config, self.event
        fs = filesystem_of(event, self.manager.prober)
        if fs is None:
            self.outcome = "no filesystem"
            log.info("%s: no filesystem, ignored", event.node)
            return
        if fs.type not in SUPPORTED_FS:
            self.outcome = f"unsupported filesystem {fs.type}"
            log.info("%s: %s is not a card filesystem, ignored", event.node, fs.type)
            return
        if is_second_drive(fs, config):  # appliance-second-copy mounts it read-write
            self.outcome = "second-copy drive, not a card"
            log.info("%s is the second-copy drive %s: not imported", event.node, fs.label)
            return
        self.identity = (event.properties.get("DISKSEQ", ""), fs.uuid)
        if self.manager.already_done(event.node, self.identity):
            self.outcome = "already imported"
            return
        elsewhere = [e.target for e in mount_table() if e.source == event.node
                     and not e.target.is_relative_to(config.importer.mount_root)]
        if elsewhere:
            self.outcome = f"mounted elsewhere ({elsewhere[0]})"
            log.info("%s is mounted at %s by someone else: left alone", event.node, elsewhere[0])
            return
        card_id = self.card_id = store.card_seen(
            fs.uuid or mount_dir_name(fs, event.sys_name), fs.label, fs.type, event.node)
        target = self._mount_point(fs)
        log.info("card %s (%s %s) on %s", fs.label or fs.uuid, fs.type, fs.uuid, event.node)
        made_read_only = set_read_only(event.node)

        def let_go() -> None:
            release(self.manager.mounter, target)
            if made_read_only:  # the next user of this device node gets it as it was
                set_read_only(event.node, False)

        try:
            self.manager.mounter.mount(event.node, fs.type, target)
        except MountError as exc:
            store.set_card(card_id, state=CardState.ERROR, error=exc.strerror or str(exc))
            log.error("cannot mount %s: %s", event.node, exc)
            self.outcome = f"mount failed: {exc.strerror or exc}"
            let_go()
            return
        store.set_card(card_id, mount_path=str(target))

        def unmount_and_release(report: ImportReport) -> None:
            let_go()
            state = {ImportState.DONE: CardState.SAFE_TO_REMOVE}.get(report.state, (
                CardState.INTERRUPTED if report.state == ImportState.INTERRUPTED else CardState.ERROR))
            store.set_card(card_id, state=state, mount_path=None, error=report.message or None)
            log.info("card %s: %s (%s)", fs.label or fs.uuid, state.replace("_", " "),
                     report.message or f"{len(report.imported)} new photos")

        try:
            importer = Importer(config, store)
            self.report = importer.import_card(
                target, source=f"card {fs.label or fs.uuid} ({event.node})", card_id=card_id,
                abort=self.abort, after_copy=unmount_and_release,
            )
        except BaseException:
            let_go()
            raise
        self.outcome = f"import {self.report.state}"
        if self.report.state == ImportState.DONE:
            self.manager.mark_done(event.node, self.identity)

    def _mount_point(self, fs: Filesystem) -> Path:
        root = self.manager.config.importer.mount_root
        base = mount_dir_name(fs, self.event.sys_name)
        taken = {e.target for e in mount_table()}
        for n in range(1, 100):
            target = root / (base if n == 1 else f"{base}-{n}")
            if target not in taken:
                return target
        raise MountError(0, "too many cards with the same UUID")


class CardManager:
    """Watches block devices and runs a :class:`CardJob` per inserted card."""

    def __init__(self, config: Config, mounter: Mounter | None = None,
                 prober: Callable[[str], Filesystem | None] = probe) -> None:
        self.config = config
        self.mounter = mounter or make_mounter(config.importer.mount)
        self.prober = prober
        self.jobs: dict[str, CardJob] = {}
        self.done: dict[str, tuple[str, str]] = {}
        self.outcomes: dict[str, str] = {}  # device node -> what its last job did
        self.lock = threading.Lock()
        self.monitor: Any = None
        self.store = Store(config.db_path)

    # -- udev -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Release stale mounts, listen for events, then handle cards already inserted."""
        self.release_stale_mounts()
        try:
            import pyudev
        except ImportError as exc:  # pragma: no cover - pyudev is a dependency
            log.error("card detection unavailable: %s", exc)
            return
        context = pyudev.Context()
        source = "udev" if Path("/run/udev/control").exists() else "kernel"
        self.monitor = pyudev.Monitor.from_netlink(context, source=source)
        self.monitor.filter_by("block")
        self.monitor.start()  # listen before enumerating: no card falls in between
        log.info("listening for cards (%s events)", source)
        for device in context.list_devices(subsystem="block"):
            self.handle(BlockEvent.from_device(device, action="add"))

    def poll(self, timeout: float) -> int:
        """Handle device events for up to ``timeout`` seconds; returns how many were handled."""
        if self.monitor is None:
            threading.Event().wait(timeout)
            return 0
        handled = 0
        deadline = _now() + timeout
        while (left := deadline - _now()) > 0:
            device = self.monitor.poll(timeout=left)
            if device is None:
                break
            self.handle(BlockEvent.from_device(device))
            handled += 1
        self._reap()
        return handled

    # -- events -----------------------------------------------------------------------------------
    def handle(self, event: BlockEvent) -> None:
        """React to one block-device event (never blocks on probing or mounting)."""
        if event.action == "remove":
            self._gone(event)
            return
        if event.action not in ("add", "change"):
            return
        if not media_present(event.sys_name):  # reader without a card, card pulled
            if event.action == "change":
                self._gone(event)
            return
        reason = ignore_reason(event, self.config, system_disks(self.config))
        if reason:
            log.debug("%s ignored: %s", event.node, reason)
            return
        with self.lock:
            job = self.jobs.get(event.node)
            if job is not None and job.is_alive():
                return
            job = CardJob(self, event)
            self.jobs[event.node] = job
        job.start()

    def _gone(self, event: BlockEvent) -> None:
        with self.lock:
            job = self.jobs.get(event.node)
            self.done.pop(event.node, None)
        if job is not None and job.is_alive():
            log.warning("%s went away during its import", event.node)
            job.device_gone()
        self.store.card_removed(event.node)

    def already_done(self, node: str, identity: tuple[str, str]) -> bool:
        with self.lock:
            return self.done.get(node) == identity

    def mark_done(self, node: str, identity: tuple[str, str]) -> None:
        with self.lock:
            self.done[node] = identity

    def _reap(self) -> None:
        with self.lock:
            for node in [n for n, j in self.jobs.items() if not j.is_alive()]:
                self.outcomes[node] = self.jobs.pop(node).outcome

    # -- life cycle -------------------------------------------------------------------------------
    def release_stale_mounts(self) -> int:
        """Unmount cards left mounted by a previous run (crash, power cut)."""
        root = self.config.importer.mount_root
        stale = [e.target for e in mount_table() if e.target.is_relative_to(root)
                 and e.target != root]
        for target in stale:
            log.info("releasing %s left mounted by a previous run", target)
            release(self.mounter, target)
        self.store.close_dead_imports()
        self.store.close_dead_cards()
        return len(stale)

    def active(self) -> list[CardJob]:
        with self.lock:
            return [j for j in self.jobs.values() if j.is_alive()]

    def wait_idle(self, timeout: float) -> bool:
        """Wait for every card job to finish (tests, benchmarks)."""
        deadline = _now() + timeout
        for job in self.active():
            job.join(max(0.0, deadline - _now()))
        return not self.active()

    def status_line(self) -> str:
        jobs = self.active()
        return f"importing {len(jobs)} card(s)" if jobs else "waiting for cards"

    def stop(self, timeout: float = 20.0) -> None:
        """Stop every import (files read in full are still committed) and unmount."""
        for job in self.active():
            job.device_gone()
        self.wait_idle(timeout)
        self.store.close()


def _now() -> float:
    return time.monotonic()
