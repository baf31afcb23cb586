"""Polling helpers: tests wait for an outcome with a deadline instead of sleeping a fixed time."""
from __future__ import annotations

import time


def eventually(check, timeout: float = 30, interval: float = 0.2, what: str = "condition"):
    """Call ``check`` until it returns a truthy value (returned) or the deadline passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except AssertionError as exc:
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout:g}s" + (f": {last_error}" if last_error else ""))
