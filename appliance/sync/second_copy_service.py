"""The second-copy service (``appliance second-copy``): keeps the second drive mounted while it is
plugged in and copies the originals to it and/or the second bucket prefix, at idle priority.

Nothing configured (no ``second_copy.drive_label``, ``folder`` or ``bucket_prefix``) is not an
error: the service stays up doing nothing, so the unit can ship enabled on every box.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ..config import Config, ConfigError
from ..ingest.second_drive import SecondDrive
from ..lifecycle import Lifecycle, idle_priority
from ..store import Store
from .second_copy import SecondCopier, Target
from .second_copy_targets import BucketTarget, DriveTarget

log = logging.getLogger(__name__)

LISTEN_SLICE_S = 0.5  # how often the drive listener looks at the stop flag
MOVING_S = 20.0  # a copy that moved bytes this recently is alive (a big RAW on a slow uplink)


def targets_for(config: Config, client: Any = None) -> tuple[list[Target], SecondDrive | None]:
    """The configured targets, and the listener that mounts the drive (None: a folder stands in)."""
    cfg = config.second_copy
    targets: list[Target] = []
    drive = None
    if cfg.folder is not None:
        targets.append(DriveTarget(config))
    elif cfg.drive_label:
        drive = SecondDrive(config)
        listener = drive
        targets.append(DriveTarget(config, mounted=lambda: listener.present,
                                   problem=lambda: listener.problem))
    if cfg.bucket_prefix:
        try:
            targets.append(BucketTarget(config, client))
        except ValueError as exc:  # no bucket configured: no retry will help
            raise ConfigError(f"second_copy.bucket_prefix: {exc}") from exc
    return targets, drive


def run(config: Config, store: Store, service: Lifecycle) -> None:
    """Copy until the service is told to stop; STATUS says "second copy (drive BACKUP): 4 / 6, ..."."""
    idle_priority()
    targets, drive = targets_for(config)
    copier = SecondCopier(config, store, targets)
    if drive is not None:
        try:
            drive.start()
        except Exception as exc:  # no udev here: the drive is reported missing, nothing stops
            log.error("cannot listen for the second drive: %s", exc)

    def listen() -> None:
        while service.running():
            if time.monotonic() - copier.progress_at < MOVING_S:
                service.alive()
            try:
                if drive is not None and drive.monitor is not None:
                    drive.poll(LISTEN_SLICE_S)
                else:
                    threading.Event().wait(LISTEN_SLICE_S)
            except Exception:  # one bad event (a mount that hangs, a udev error) must not end the
                log.exception("second drive: handling a device event failed")  # listening
                threading.Event().wait(LISTEN_SLICE_S)
        copier.abort.set()  # a copy in progress stops; its temp file is removed next time

    listener = threading.Thread(target=listen, name="second-drive", daemon=True)
    listener.start()
    service.ready(", ".join(f"{t.name} {t.label}" for t in targets) or "second copy off", store)

    def keep_going() -> bool:
        service.alive()
        return service.running()

    while service.running():
        made = copier.step(keep_going) if targets else 0
        service.status(copier.summary())
        if not made:
            service.sleep(config.second_copy.poll_seconds)
    listener.join(LISTEN_SLICE_S * 4)
    if drive is not None:
        drive.stop()


def copy_once(config: Config, store: Store) -> tuple[int, str]:
    """Copy what is pending now to the configured folder or bucket prefix (the drive itself is
    mounted only by the service); returns the copies made and the summary."""
    targets, drive = targets_for(config)
    if drive is not None:
        targets[0] = DriveTarget(config, mounted=config.second_copy.mount_point.is_mount)
    copier = SecondCopier(config, store, targets)
    made = 0
    while step := copier.step():
        made += step
    return made, copier.summary()
