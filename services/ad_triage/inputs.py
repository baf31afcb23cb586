"""Checks of RPC arguments, on the shared kit.inputs helpers, with errors that name the field. A refused call writes
nothing. Only argument checks live here: parsing the records themselves is domain/arrivals.py.

Messages never quote a value that could be a contact detail (records, lines); ids and choices are quoted.
"""
from __future__ import annotations

import re

from kit.inputs import (InvalidInput, actor, choice, optional_choice, optional_text, page, request_id, text,
                        whole_number)
from services.ad_triage.domain.arrivals import FORMATS
from services.ad_triage.domain.ruleset import PRIORITIES
from services.ad_triage.domain.triage import STATES

__all__ = ["InvalidInput", "actor", "ad_key", "choice", "cluster_id", "file_format", "lines", "optional_choice", "optional_text",
           "page", "priority", "record", "request_id", "state", "text", "whole_number"]
MAX_BATCH = 5000
MAX_LINE = 100_000


def lines(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput("lines must be a list of strings", "lines")
    if not value:
        raise InvalidInput("lines is empty: send at least one record", "lines", "empty_batch")
    if len(value) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} lines per call; split the file into chunks", "lines",
                           "batch_too_large")
    if any(len(v) > MAX_LINE for v in value):
        raise InvalidInput(f"a line is longer than {MAX_LINE} characters", "lines", "line_too_long")
    return value


def file_format(value: object) -> str:
    if value not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}", "format",
                           "unknown_format")
    return value  # type: ignore[return-value]


def ad_key(value: object) -> str:
    if not isinstance(value, str) or "/" not in value or not 3 <= len(value) <= 200:
        raise InvalidInput("ad_key must be platform/adId", "ad_key")
    return value


_CLUSTER_ID = re.compile(r"cl-[0-9a-f]{16}")


def cluster_id(value: object) -> str:
    if not isinstance(value, str) or not _CLUSTER_ID.fullmatch(value):
        raise InvalidInput("cluster_id must be a cluster id (cl- and 16 hex digits)", "cluster_id")
    return value


def state(value: object) -> str | None:
    return optional_choice(value, "state", STATES)


def priority(value: object) -> str | None:
    return optional_choice(value, "priority", PRIORITIES + ("none",))


def record(value: object) -> dict:
    if not isinstance(value, dict):
        raise InvalidInput("record must be a JSON object", "record")
    return value
