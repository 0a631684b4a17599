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

