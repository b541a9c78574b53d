"""Keep freed activation memory in the process instead of handing it back to the kernel.

glibc serves large allocations with ``mmap`` and unmaps them on free, so every feature map of a
forward pass lands on fresh pages that the kernel must fault in and zero. For a whole 1 MP image
that was about half of the time (1.2 M page faults, 1.9 s system time next to 1.7 s of compute,
docs/speed.md). Raising glibc's mmap and trim thresholds lets freed maps be reused from the heap.
The price is that memory is not returned between images, so the tile budget is what bounds it,
and that where a map lands depends on what was freed before it: a photo that fits whole only by
the bf16 stream's planning constant maps its large maps on their own instead
(:func:`large_maps_mapped`, :func:`mapped_zeros`). Linux with glibc only; elsewhere nothing happens.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import mmap
import sys
from typing import Iterator

import numpy as np

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_THRESHOLD = 1 << 30
MAPPED_ABOVE = 1 << 25
"""Allocations at least this large (maps, not bands: :data:`~irestore.engine.bands.LARGEST_BAND_BYTES`)
get mappings of their own while a large photo runs whole (:func:`large_maps_mapped`)."""


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


@functools.cache
def reuse_freed_memory() -> bool:
    """Set the thresholds once per process; True when glibc accepted them."""
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, 2 * _THRESHOLD))


@contextlib.contextmanager
def large_maps_mapped(enabled: bool = True) -> Iterator[None]:
    """Within: allocations of :data:`MAPPED_ABOVE` bytes or more are mapped on their own and unmapped when freed.

    Page faults then cost some time on every map (sr-x2 ran a fifth slower at 1 MP), but the peak no
    longer depends on which holes the heap has left (docs/speed.md, "A 12 MP photo whole").
    """
    libc = _libc()
    if not enabled or libc is None or not reuse_freed_memory():
        yield
        return
    libc.mallopt(_M_MMAP_THRESHOLD, MAPPED_ABOVE)
    try:
        yield
    finally:
        libc.mallopt(_M_MMAP_THRESHOLD, _THRESHOLD)


def mapped_zeros(shape: tuple[int, ...], dtype: type = np.float32) -> np.ndarray:
    """Zeros in an anonymous mapping of their own, for an output image.

    Its pages become resident only as they are written and go back to the kernel with the array.
    From the heap, the next photo's output would reuse the last one's freed, resident chunk, which
    calloc must clear, so it would be resident through the whole restore (137 MB at 12 MP).
    """
    count = int(np.prod(shape))
    nbytes = count * np.dtype(dtype).itemsize
    if nbytes < MAPPED_ABOVE:
        return np.zeros(shape, dtype)
    return np.frombuffer(mmap.mmap(-1, nbytes), dtype=dtype, count=count).reshape(shape)
