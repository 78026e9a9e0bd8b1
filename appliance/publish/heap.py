"""Keep freed image memory for the next photo of a burst; give it back when the queue is empty.

A publish allocates ~50 MB in large buffers (the decoded frame, the output, its bands). glibc
hands buffers that large back to the kernel as soon as they are freed (each is its own mmap, or
the top of the heap is trimmed), so every photo page-faults all of it in again: ~12,000 faults
per 24 MP photo, 3 % of a publish on this machine's 2 cores, more on a Pi. Raising glibc's mmap
and trim thresholds keeps that memory in the process between photos (the peak is about the same:
+1 MB at 45 MP); :func:`give_back` returns it once the burst is over.

64-bit glibc only (the Pi image is arm64): 32-bit glibc caps the mmap threshold at 512 KiB, far
below an image block, and other C libraries have no ``mallopt``. There both calls do nothing.
"""

from __future__ import annotations

import ctypes
import functools

M_TRIM_THRESHOLD = -1  # mallopt() parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
# Pillow allocates images in blocks of up to 16 MB; glibc accepts up to 32 MB on 64-bit systems.
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 256 << 20  # free memory kept at the heap's top during a burst


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    libc = ctypes.CDLL(None)  # the C library this process already uses
    if not hasattr(libc, "gnu_get_libc_version") or ctypes.sizeof(ctypes.c_void_p) < 8:
        return None
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    return libc


def keep_freed_memory() -> bool:
    """Let freed image buffers stay in this process for reuse; True if glibc took the setting."""
    libc = _glibc()
    return (libc is not None and bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
            and bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)))


def give_back() -> bool:
    """Return the heap's free memory to the system (call when idle); True if any was returned."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


class Burst:
    """Memory kept while work keeps coming, given back once it stops (a service's main loop).

    Call :meth:`worked` after each item and :meth:`idle` whenever the queue is found empty."""

    def __init__(self) -> None:
        self.keeping = keep_freed_memory()
        self.busy = False

    def worked(self) -> None:
        self.busy = True

    def idle(self) -> bool:
        """Give the kept memory back if work was done since the last call; True if it was."""
        if not self.busy:
            return False
        self.busy = False
        give_back()
        return True
