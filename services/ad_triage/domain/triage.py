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
    cluster_id: str  # outreach works a cluster: one advertiser or network
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
    """What the queue orders by: one entry per cluster (outreach works an advertiser or network, not an ad)."""

    cluster_id: str
    score_milli: int
    last_seen: datetime
    cluster_size: int


def queue_order_key(entry: QueueEntry) -> tuple[int, float, int, str]:
    """Highest score first, then most recently seen, then largest cluster; the cluster id makes the order total."""
    return (-entry.score_milli, -entry.last_seen.timestamp(), -entry.cluster_size, entry.cluster_id)


_SCORE_SPAN, _TIME_SPAN, _SIZE_SPAN = 10 ** 9, 10 ** 14, 10 ** 9


def queue_position(entry: QueueEntry) -> str:
    """queue_order_key as one string that sorts the same way, so the read model can keep the queue in the order of
    its own key (a page is then the next rows of one index, whatever the number of ads)."""
    score = min(max(entry.score_milli, 0), _SCORE_SPAN - 1)
    millis = min(max(round(entry.last_seen.timestamp() * 1000), 0), _TIME_SPAN - 1)
    size = min(max(entry.cluster_size, 0), _SIZE_SPAN - 1)
    return (f"{_SCORE_SPAN - 1 - score:09d}{_TIME_SPAN - 1 - millis:014d}{_SIZE_SPAN - 1 - size:09d}"
            f"{entry.cluster_id}")


def merged_queue(a: QueueItem | None, b: QueueItem | None) -> QueueItem | None:
    """The queue item of two clusters that merged: the one worked on last decides the state (its worker goes on
    with the joined cluster), and the history keeps every move of both, in time order."""
    items = [i for i in (a, b) if i is not None]
    if len(items) < 2:
        return items[0] if items else None
    latest = max(items, key=lambda i: (i.history[-1].at.timestamp() if i.history else float("-inf"),
                                       i.state != "new"))
    history = tuple(sorted(a.history + b.history, key=lambda m: m.at))
    return replace(latest, history=history)


def is_flagged(score: Score, ruleset: RuleSet) -> bool:
    """True when the score's priority is at or above the rule set's flagAt level (an "ad flagged" event)."""
    if score.ruleset_version != ruleset.version:
        raise ValueError(f"score was computed with rule set {score.ruleset_version}, not {ruleset.version}")
    return score.priority != "none" and PRIORITIES.index(score.priority) <= PRIORITIES.index(ruleset.flag_at)
