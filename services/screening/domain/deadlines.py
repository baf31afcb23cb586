"""Deadlines on screenings and referrals, as data (services/screening/data/deadlines/<version>.json).

A person referred for identification can be gone within days, and a referral nobody acknowledges protects nobody:
each step has a time limit, and a missed one is escalated to an organisation (CMM) once. The file is versioned so a
change of limits is reviewed and the escalation records can name the rules they followed.

A deadline starts at the first timeline mark equal to ``starts``, is met by any ``met_by`` mark at or after that
start, and is missed when ``now`` is strictly after start + within and it was not met. A deadline met late is NOT
reported once it is met: escalation asks someone to act, and there is nothing left to act on (the lateness itself is
in the timeline for the figures). Exactly at the due time is not yet missed. A deadline already escalated (its id in
``escalated``) is never returned again.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Collection, Sequence

from .data import DATA, read
from .errors import InvalidDeadlines

DEADLINES_DIR = DATA / "deadlines"
APPLIES_TO = ("screening", "referral")
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_KEYS = {"id", "description", "applies_to", "starts", "met_by", "within_hours", "escalate_to"}


@dataclass(frozen=True)
class Deadline:
    id: str
    applies_to: str  # "screening" | "referral"
    starts: str  # a timeline mark
    met_by: frozenset[str]  # marks that end it
    within: timedelta
    escalate_to: str  # an organisation id


@dataclass(frozen=True)
class Missed:
    deadline: str
    started_at: datetime
    due_at: datetime
    escalate_to: str


def _bad(version: str, problem: str) -> InvalidDeadlines:
    return InvalidDeadlines(f"deadlines {version}: {problem}")


def _mark(value: object, version: str, where: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise _bad(version, f"{where} must be a mark (lower-case letters, digits and _)")
    return value


def _deadline(item: object, version: str) -> Deadline:
    if not isinstance(item, dict) or not {"id", "applies_to", "starts", "met_by", "within_hours",
                                          "escalate_to"} <= set(item) <= _KEYS:
        raise _bad(version, f"each deadline needs exactly {', '.join(sorted(_KEYS - {'description'}))}")
    ident = _mark(item["id"], version, "id")
    if item["applies_to"] not in APPLIES_TO:
        raise _bad(version, f"{ident}: applies_to must be one of {', '.join(APPLIES_TO)}")
    starts = _mark(item["starts"], version, f"{ident}.starts")
    met_by = item["met_by"]
    if not isinstance(met_by, list) or not met_by:
        raise _bad(version, f"{ident}: met_by must be a non-empty list of marks")
    marks = frozenset(_mark(m, version, f"{ident}.met_by") for m in met_by)
    if starts in marks:
        raise _bad(version, f"{ident}: a deadline cannot be met by the mark that starts it")
    hours = item["within_hours"]
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not hours > 0:
        raise _bad(version, f"{ident}: within_hours must be a number above 0")
    return Deadline(ident, item["applies_to"], starts, marks, timedelta(hours=hours),
                    _mark(item["escalate_to"], version, f"{ident}.escalate_to"))


def versions() -> tuple[str, ...]:
    """The shipped versions, oldest first (by number, so 1.10.0 comes after 1.9.0)."""
    found = (p.stem for p in DEADLINES_DIR.glob("*.json") if _VERSION.match(p.stem))
    return tuple(sorted(found, key=lambda v: tuple(int(n) for n in v.split("."))))


def load_deadlines(version: str | None = None) -> tuple[str, tuple[Deadline, ...]]:
    """``(version, deadlines)`` of one file; the newest when ``version`` is None."""
    if version is None:
        shipped = versions()
        if not shipped:
            raise InvalidDeadlines("no deadlines file is shipped")
        version = shipped[-1]
    if not isinstance(version, str) or not _VERSION.match(version):
        raise InvalidDeadlines(f"unknown deadlines version {str(version)[:20]!r}", "version")
    try:
        document = read(f"deadlines/{version}.json")
    except FileNotFoundError:
        raise InvalidDeadlines(f"unknown deadlines version {version!r}", "version") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise _bad(version, f"cannot be read: {exc}") from None
    if not isinstance(document, dict) or document.get("version") != version:
        raise _bad(version, "the file's version must match its name")
    items = document.get("deadlines")
    if not isinstance(items, list) or not items:
        raise _bad(version, "deadlines must be a non-empty list")
    deadlines = tuple(_deadline(item, version) for item in items)
    if len({d.id for d in deadlines}) != len(deadlines):
        raise _bad(version, "a deadline id is used twice")
    return version, deadlines


def _utc(value: datetime) -> datetime:
    """A naive datetime is taken as UTC (what MongoDB hands back), so naive and aware marks compare."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def missed(deadlines: Sequence[Deadline], *, applies_to: str, marks: Sequence[tuple[str, datetime]],
           now: datetime, escalated: Collection[str]) -> list[Missed]:
    """The deadlines of this subject that are missed now and not yet escalated, in the file's order."""
    timeline = [(mark, _utc(at)) for mark, at in marks]
    now = _utc(now)
    result = []
    for deadline in deadlines:
        if deadline.applies_to != applies_to or deadline.id in escalated:
            continue
        start = next((at for mark, at in timeline if mark == deadline.starts), None)
        if start is None:
            continue
        if any(mark in deadline.met_by and at >= start for mark, at in timeline):
            continue
        due = start + deadline.within
        if now > due:
            result.append(Missed(deadline.id, start, due, deadline.escalate_to))
    return result
