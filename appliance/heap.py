"""Keep freed image memory for the next photo of a burst; give it back when the queue is empty.

A publish allocates ~50 MB in large buffers (the decoded frame, the output, its bands). glibc
hands buffers that large back to the kernel as soon as they are freed (each is its own mmap, or
the top of the heap is trimmed), so every photo page-faults all of it in again: ~12,000 faults
per 24 MP photo, 3 % of a publish on this machine's 2 cores, more on a Pi. Raising glibc's mmap
and trim thresholds keeps that memory in the heap between photos (the peak is unchanged);
:func:`give_back` returns it once the burst is over. Without glibc both are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_TRIM_THRESHOLD = -1  # mallopt() parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
# Pillow allocates images in blocks of up to 16 MB: anything up to this size stays in the heap.
# glibc refuses thresholds over 32 MB on 64-bit systems and 16 MB (a block just fits) on 32-bit.
MMAP_THRESHOLDS = (32 << 20, (16 << 20) + 4096)
TRIM_THRESHOLD = 256 << 20  # free memory kept at the heap's top during a burst


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    if libc is None or not all(hasattr(libc, f) for f in ("mallopt", "malloc_trim")):
        return None  # not glibc (musl, macOS)
    return libc


def keep_freed_memory() -> bool:
    """Let freed image buffers stay in this process for reuse; True if glibc took the setting."""
    libc = _glibc()
    if libc is None:
        return False
    if not any(libc.mallopt(M_MMAP_THRESHOLD, size) for size in MMAP_THRESHOLDS):
        return False
    return bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def give_back() -> bool:
    """Return the heap's free memory to the system (call when idle); True if any was returned."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
