"""The outreach queue: item states, queue order, and which scores raise an "ad flagged" event.

States: new -> assigned -> contacted | unreachable -> closed. Two extra moves, on purpose:
- assigned -> closed: a worker may close without contact when the ad was removed, is a duplicate of an ad already
  handled, or is clearly not of concern. The reason is mandatory for every move, so this stays auditable.
- unreachable -> assigned: "unreachable" is often temporary (number off at night); a retry is a new assignment.
Contacted is final except for closing: outreach that reached someone is followed up in the outreach service.
Items are immutable; each move returns a new item with the move appended to its history.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from .errors import IllegalTransition
from .records import AdKey
from .ruleset import PRIORITIES, RuleSet
from .scoring import Score

STATES = ("new", "assigned", "contacted", "unreachable", "closed")
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"assigned"}),
    "assigned": frozenset({"contacted", "unreachable", "closed"}),
    "unreachable": frozenset({"assigned", "closed"}),
    "contacted": frozenset({"closed"}),
    "closed": frozenset(),
}


@dataclass(frozen=True)
class Move:
    from_state: str
    to_state: str
    actor: str  # staff member's user id: workers are accountable, subjects are not named here
    at: datetime
    reason: str


@dataclass(frozen=True)
class QueueItem:
    ad_key: AdKey
    state: str = "new"
    assignee: str | None = None
    history: tuple[Move, ...] = ()


def move(item: QueueItem, to_state: str, actor: str, at: datetime, reason: str,
         assignee: str | None = None) -> QueueItem:
    """Return ``item`` moved to ``to_state``; raises IllegalTransition naming both states when not allowed.

    On a move to "assigned" the assignee defaults to the actor (a worker taking the item themselves).
    """
    if to_state not in STATES:
        raise IllegalTransition(item.state, to_state, f"unknown state (states: {', '.join(STATES)})")
    if to_state not in TRANSITIONS[item.state]:
        allowed = ", ".join(sorted(TRANSITIONS[item.state])) or "none, the item is closed"
        raise IllegalTransition(item.state, to_state, f"allowed from {item.state!r}: {allowed}")
    if not actor.strip():
        raise IllegalTransition(item.state, to_state, "the actor is missing")
    if not reason.strip():
        raise IllegalTransition(item.state, to_state, "a reason is required for every move")
    if at.tzinfo is None:
        raise IllegalTransition(item.state, to_state, "the time needs a timezone offset")
    if item.history and at < item.history[-1].at:
        raise IllegalTransition(item.state, to_state, "the time is earlier than the previous move")
    if assignee is not None and to_state != "assigned":
        raise IllegalTransition(item.state, to_state, "an assignee can only be given when assigning")
    if to_state == "assigned":
        assignee = assignee or actor
    else:
        assignee = item.assignee
    record = Move(item.state, to_state, actor, at, reason.strip())
    return replace(item, state=to_state, assignee=assignee, history=item.history + (record,))


@dataclass(frozen=True)
class QueueEntry:
    """What the queue orders by; the service builds one per open item."""

    ad_key: AdKey
    score_milli: int
    last_seen: datetime
    cluster_size: int


def queue_order_key(entry: QueueEntry) -> tuple[int, float, int, AdKey]:
    """Highest score first, then most recently seen, then largest cluster; the ad key makes the order total."""
    return (-entry.score_milli, -entry.last_seen.timestamp(), -entry.cluster_size, entry.ad_key)


def is_flagged(score: Score, ruleset: RuleSet) -> bool:
    """True when the score's priority is at or above the rule set's flagAt level (an "ad flagged" event)."""
    if score.ruleset_version != ruleset.version:
        raise ValueError(f"score was computed with rule set {score.ruleset_version}, not {ruleset.version}")
    return score.priority != "none" and PRIORITIES.index(score.priority) <= PRIORITIES.index(ruleset.flag_at)
