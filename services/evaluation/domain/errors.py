"""Coded errors of the evaluation domain (translated at the service edge)."""
from __future__ import annotations


class UnsupportedEvent(ValueError):
    """An event evaluation cannot count: a type it does not know, or data without an initiative 1-4."""

    code = "unsupported_event"
