"""Keep a threaded server's memory small on glibc.

glibc gives each thread that allocates its own malloc heap ("arena"); a server with eight worker threads then
holds several partly used heaps that are never given back, which alone took a classroom server from about
140 MB to 225 MB resident after serving lessons. Two arenas keep that growth in check at no measurable cost
in speed (the GIL serializes most allocation anyway). The same is what ``MALLOC_ARENA_MAX=2`` in the
environment does; calling ``mallopt`` here works without the operator having to know.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_ARENA_MAX = -8


def limit_malloc_arenas(count: int = 2) -> bool:
    """Call before the server starts its threads; True if the C library took the setting."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, count))
    except (OSError, AttributeError):  # another C library (musl) or none: nothing to tune
        return False
