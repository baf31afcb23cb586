"""Freed memory goes back to the operating system after a batch (kit/memory.py). What it saves is measured by
`make bench` (the ad triage service's resident memory after 100,000 ads), not asserted here."""
from __future__ import annotations

import ctypes.util
import platform

from kit.memory import ALLOCATOR_ENV, release_freed


def test_the_processes_are_started_with_the_allocator_settings_that_let_memory_go_back():
    assert ALLOCATOR_ENV == {"PYTHONMALLOC": "malloc", "MALLOC_ARENA_MAX": "2"}


def test_release_freed_asks_glibc_and_is_a_no_op_elsewhere():
    on_glibc = platform.libc_ver()[0] == "glibc" and ctypes.util.find_library("c") is not None
    assert release_freed() is on_glibc
