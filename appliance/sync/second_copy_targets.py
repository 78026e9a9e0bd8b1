"""Where the second copy of the originals goes: a second drive (or a folder standing in for it) and a
second prefix of the bucket.

Each copy is verified like the first one. On the drive: the original is read once (sha256, which
must still be its name, and BLAKE3) into a locked temp file on the drive, fsynced, read back from the
drive past the page cache, compared and only then renamed into place (:mod:`..ingest.verified_copy`).
In the bucket: a PUT with Content-MD5, the ETag compared, then a HEAD confirming size and ETag.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Config
from ..ingest.verified_copy import (
    CHUNK,
    CopyError,
    DestinationFull,
    clean_stale_temps,
    commit,
    drop_cached,
    hash_file,
    stage,
)
from . import bucket

log = logging.getLogger(__name__)

DRIVE_FOLDER = "appliance-originals"  # everything the appliance writes on the drive is in here
BUCKET_CHECK_S = 60.0  # a bucket that answered is not asked again for this long (HEADs cost)

Original = dict[str, Any]  # sha256, folder (buffer|archive), path (relative to it), size


class SourceDamaged(CopyError):
    """The first copy no longer reads back with its sha256: it is not copied (it would spread)."""


class Unavailable(Exception):
    """The target cannot be written now (drive missing or full, bucket unreachable)."""


class Reporting:
    """A file handed to boto3 that reports each block sent (a slow uplink is not a hang)."""

    def __init__(self, handle: Any, progress: Callable[[int], None]) -> None:
        self.handle = handle
        self.progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.progress(len(data))
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.handle.seek(offset, whence)

    def tell(self) -> int:
        return self.handle.tell()


class DriveTarget:
    """The second drive: ``<drive>/appliance-originals/<buffer|archive>/<ab>/<sha256>.<ext>``."""

    name = "drive"

    def __init__(self, config: Config, mounted: Callable[[], bool] | None = None,
                 problem: Callable[[], str] = lambda: "") -> None:
        cfg = config.second_copy
        self.folder_mode = cfg.folder is not None
        self.base = cfg.folder if cfg.folder is not None else cfg.mount_point
        self.root = self.base / DRIVE_FOLDER
        self.label = cfg.drive_label or str(self.base)
        self.mounted = mounted or (lambda: self.base.is_dir())
        self.mount_problem = problem

    def problem(self) -> str:
        """Why the drive cannot take copies now ('' when it can)."""
        if not self.mounted():
            if self.folder_mode:
                return f"drive folder {self.base} missing"
            return self.mount_problem() or f"drive {self.label} missing"
        try:
            self.root.mkdir(exist_ok=True)
        except OSError as exc:
            return f"drive {self.label} is not writable: {exc.strerror}"
        return ""

    def attached(self) -> None:
        """The drive (re)appeared: remove temp files a killed copy left on it."""
        clean_stale_temps(self.root)

    def failed(self) -> None:
        """A write failed: the next pass looks at the drive again anyway."""

    def path(self, original: Original) -> Path:
        return self.root / original["folder"] / original["path"]

    def holds(self, original: Original) -> bool:
        """A quick look: the copy is there with the right size."""
        try:
            return self.path(original).stat().st_size == original["size"]
        except OSError:
            return False

    def copy(self, original: Original, source: Path, abort: threading.Event,
             progress: Callable[[int], None] = lambda n: None) -> None:
        try:
            staged = stage(source, self.root, progress, abort)
            if staged.sha256 != original["sha256"]:
                staged.discard()
                raise SourceDamaged(0, f"{source} does not match its sha256 any more")
            commit(staged, self.path(original), from_disk=True)
        except DestinationFull as exc:
            raise Unavailable(f"drive {self.label} is full") from exc

    def verify(self, original: Original, abort: threading.Event) -> bool:
        """Read the copy back in full from the drive (not the page cache): does it still have the
        original's sha256?"""
        path = self.path(original)
        drop_cached(path)
        try:
            return hash_file(path, abort) == original["sha256"]
        except CopyError:
            return False


class BucketTarget:
    """The second bucket prefix: ``<second_copy.bucket_prefix>/<buffer|archive>/<ab>/<sha256>.<ext>``."""

    name = "bucket"

    def __init__(self, config: Config, client: Any = None) -> None:
        self.bucket = config.bucket.bucket
        self.prefix = config.second_copy.bucket_prefix
        self.label = f"{self.bucket}/{self.prefix}"
        self.client = client or bucket.client(config.bucket)
        self.answered_at = float("-inf")

    def problem(self) -> str:
        if time.monotonic() - self.answered_at < BUCKET_CHECK_S:
            return ""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except bucket.OFFLINE_ERRORS as exc:
            return f"bucket unreachable ({type(exc).__name__})"
        except Exception as exc:  # refused credentials, no such bucket: shown, never fatal
            return f"bucket {self.bucket}: {exc}"
        self.answered_at = time.monotonic()
        return ""

    def attached(self) -> None:
        """Nothing to clean: a PUT is all or nothing."""

    def failed(self) -> None:
        """A request failed: ask the bucket again before the next copy."""
        self.answered_at = float("-inf")

    def key(self, original: Original) -> str:
        return f"{self.prefix}/{original['folder']}/{original['path']}"

    def _head(self, original: Original) -> dict[str, Any] | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.key(original))
        except bucket.OFFLINE_ERRORS:
            raise
        except Exception:
            return None

    def holds(self, original: Original) -> bool:
        head = self._head(original)
        return head is not None and head.get("ContentLength") == original["size"] and (
            head.get("Metadata", {}).get("sha256") == original["sha256"])

    def copy(self, original: Original, source: Path, abort: threading.Event,
             progress: Callable[[int], None] = lambda n: None) -> None:
        md5, sha = hashlib.md5(), hashlib.sha256()  # md5: the bucket's integrity check
        with open(source, "rb") as handle:
            while chunk := handle.read(CHUNK):
                if abort.is_set():
                    raise Unavailable("stopping")
                md5.update(chunk)
                sha.update(chunk)
                progress(len(chunk))
            if sha.hexdigest() != original["sha256"]:
                raise SourceDamaged(0, f"{source} does not match its sha256 any more")
            handle.seek(0)
            response = self.client.put_object(
                Bucket=self.bucket, Key=self.key(original), Body=Reporting(handle, progress),
                ContentLength=original["size"], ContentType="application/octet-stream",
                ContentMD5=base64.b64encode(md5.digest()).decode(),
                Metadata={"sha256": original["sha256"]})
        etag = response.get("ETag", "").strip('"')
        head = self._head(original) or {}
        if etag != md5.hexdigest() or head.get("ETag", "").strip('"') != etag or (
                head.get("ContentLength") != original["size"]):
            raise bucket.IntegrityError(f"{self.key(original)}: the bucket did not confirm the copy")

    def verify(self, original: Original, abort: threading.Event) -> bool:
        """A HEAD: the object is there with the original's size and sha256 (the PUT was checked)."""
        return self.holds(original)
