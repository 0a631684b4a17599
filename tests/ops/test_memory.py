"""The server limits glibc's per-thread heaps (see cbt/memory.py)."""

from __future__ import annotations

import platform
import sys

import pytest

from cbt.memory import limit_malloc_arenas


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="mallopt(M_ARENA_MAX) is a glibc setting")
def test_glibc_takes_the_arena_limit():
    assert limit_malloc_arenas(2) is True



SIGN_IN_STORM = """
import os, re, sys, threading
from cbt.memory import limit_malloc_arenas
from cbt.auth.passwords import HashPolicy

def status(key):
    return int(re.search(key + r":\\s+(\\d+)", open("/proc/self/status").read()).group(1)) // 1024

limit_malloc_arenas()
policy = HashPolicy()
stored = policy.hash("Warm-Up-Password-1")  # imports and the first block out of the way
before = status("VmRSS")
threads = [threading.Thread(target=lambda: [policy.verify(stored, "wrong") for _ in range(3)]) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(status("VmRSS") - before, status("VmHWM") - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="reads /proc and relies on glibc's allocator settings")
def test_a_class_signing_in_at_once_leaves_no_password_hash_memory_behind():
    """Eight worker threads checking passwords together: at most one 19 MiB argon2 block per core is held at
    a time, and the blocks go back to the system afterwards (glibc would otherwise keep them in its heap)."""
    import os
    import subprocess

    from cbt.auth.passwords import DEFAULT_MEMORY_KIB

    result = subprocess.run([sys.executable, "-c", SIGN_IN_STORM], capture_output=True, text=True, check=True)
    kept, peak = map(int, result.stdout.split())
    block = DEFAULT_MEMORY_KIB // 1024
    cores = max(2, os.cpu_count() or 2)
    assert kept < block, f"{kept} MB kept after the sign-ins"
    assert peak <= (cores + 1) * block, f"peak grew by {peak} MB with {cores} cores"
