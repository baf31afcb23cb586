"""Digital outreach tasks: one per ad cluster (one advertiser or network), not per ad.

Ad triage tells us, per ad, its cluster and current priority (``ad_triage.ad.flagged``, ``…priority_changed``). A
task's priority is the highest current priority of its ads. Events may be delivered twice and out of step, so every
rule here is idempotent: applying the same flag again returns the same task, unchanged. The task id is derived from
the cluster id, so a redelivered flag cannot open a second task. An ad that moves to another cluster (ad triage
merged clusters) leaves its old task; a task whose last ad left is ``merged``.

Message contents are never recorded: an attempt is channel, time and outcome.

States: open → in_progress (first attempt) → closed (explicit, with a reason code); open/in_progress → merged.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Mapping

from .errors import InvalidDate, InvalidFlag, TaskClosed, UnknownCluster
from .reference import code, codes

PRIORITY_RANK = {"high": 3, "medium": 2, "low": 1, "none": 0}
PRIORITIES = tuple(PRIORITY_RANK)
STATES = ("open", "in_progress", "closed", "merged")
OPEN_STATES = ("open", "in_progress")
EARLIEST = datetime(2016, 1, 1, tzinfo=timezone.utc)
CLOCK_SKEW_SECONDS = 300  # a phone's clock a few minutes ahead is not a future attempt
_CLUSTER = re.compile(r"^cl-([0-9a-f]{16})$")


def task_id_for(cluster_id: str) -> str:
    """``ot-`` and the cluster id's hex: deterministic, so one cluster has one task however often it is flagged."""
    match = _CLUSTER.match(cluster_id) if isinstance(cluster_id, str) else None
    if match is None:
        raise UnknownCluster("cluster_id must be cl- and 16 hex digits", "cluster_id")
    return "ot-" + match.group(1)


def cluster_priority(ad_priorities: Mapping[str, str]) -> str:
    """The highest current priority among a cluster's ads ("none" for no ads)."""
    return max(ad_priorities.values(), key=lambda p: PRIORITY_RANK.get(p, 0), default="none")


def reached(outcome: str) -> bool:
    """Whether an outcome means a person was reached (the label ad triage counts per rule-set version)."""
    return outcome in codes("reachedOutcomes")


@dataclass(frozen=True)
class AdFlag:
    """What a flag or priority-change event says about one ad (no text, no contact)."""
    ad_key: str
    cluster_id: str
    priority: str
    score: float
    ruleset_version: str
    city: str | None = None


@dataclass(frozen=True)
class AdState:
    priority: str
    score: float
    city: str | None = None


@dataclass(frozen=True)
class Attempt:
    channel: str
    at: datetime
    outcome: str
    contact_id: str | None = None
    organisation: str | None = None

    @property
    def reached(self) -> bool:
        return reached(self.outcome)


@dataclass(frozen=True)
class Task:
    """A task is a value: the functions below return a new one (``ads`` is not to be mutated in place)."""
    task_id: str
    cluster_id: str
    state: str
    ruleset_version: str  # of the flag that opened the task: outcomes are counted against it
    opened_at: datetime
    updated_at: datetime
    ads: Mapping[str, AdState] = field(default_factory=dict)
    attempts: tuple[Attempt, ...] = ()
    closed_reason: str | None = None

    @property
    def priority(self) -> str:
        return cluster_priority({k: a.priority for k, a in self.ads.items()})

    @property
    def score(self) -> float:
        return max((a.score for a in self.ads.values()), default=0.0)

    @property
    def ad_keys(self) -> tuple[str, ...]:
        return tuple(sorted(self.ads))

    @property
    def ad_count(self) -> int:
        return len(self.ads)

    @property
    def cities(self) -> tuple[str, ...]:
        return tuple(sorted({a.city for a in self.ads.values() if a.city}))

    @property
    def on_default_list(self) -> bool:
        """Open or in progress with priority low or more: what a worker's list shows without filters."""
        return self.state in OPEN_STATES and PRIORITY_RANK[self.priority] >= PRIORITY_RANK["low"]


def check_flag(ad_key: object, cluster_id: object, priority: object, score: object, ruleset_version: object,
               city: object = None) -> AdFlag:
    if not isinstance(ad_key, str) or not 3 <= len(ad_key) <= 200 or "/" not in ad_key:
        raise InvalidFlag("adKey must be platform/adId", "ad_key")
    task_id_for(cluster_id)  # shape check
    if priority not in PRIORITY_RANK:
        raise InvalidFlag(f"priority must be one of {', '.join(PRIORITIES)}", "priority")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or score < 0:
        raise InvalidFlag("score must be a number, 0 or more", "score")
    if not isinstance(ruleset_version, str) or not ruleset_version:
        raise InvalidFlag("rulesetVersion must be given", "ruleset_version")
    return AdFlag(ad_key, cluster_id, priority, float(score), ruleset_version,
                  city if isinstance(city, str) and city else None)


def open_task(flag: AdFlag, at: datetime) -> Task:
    return Task(task_id_for(flag.cluster_id), flag.cluster_id, "open", flag.ruleset_version, at, at,
                {flag.ad_key: AdState(flag.priority, flag.score, flag.city)})


def with_ad(task: Task | None, flag: AdFlag, at: datetime) -> Task:
    """The cluster's task with the ad at its current priority; opens the task for a cluster's first flag."""
    if task is None:
        return open_task(flag, at)
    if task.cluster_id != flag.cluster_id:
        raise UnknownCluster(f"task {task.task_id} is of cluster {task.cluster_id}, not {flag.cluster_id}",
                             "cluster_id")
    state = AdState(flag.priority, flag.score, flag.city)
    if task.ads.get(flag.ad_key) == state:
        return task  # the same fact again: nothing changes, not even updated_at
    # a merged task that gets an ad back is work again; a closed one stays closed (a worker decided)
    return replace(task, ads={**task.ads, flag.ad_key: state}, updated_at=at,
                   state="open" if task.state == "merged" else task.state)


def without_ad(task: Task, ad_key: str, at: datetime) -> Task:
    """The task after ``ad_key`` moved to another cluster; the last ad leaving an open task makes it merged."""
    if ad_key not in task.ads:
        return task
    ads = {k: v for k, v in task.ads.items() if k != ad_key}
    state = "merged" if not ads and task.state in OPEN_STATES else task.state
    return replace(task, ads=ads, state=state, updated_at=at)


def apply_flag(flag: AdFlag, at: datetime, *, task: Task | None,
               previous: Task | None = None) -> tuple[Task, Task | None]:
    """Apply one ad's flag or priority change. ``task``: the task of the flag's cluster (None if there is none
    yet); ``previous``: the task that holds the ad now, when it is another cluster's. Returns the cluster's task
    and the previous task after the ad left it (None when the ad did not move)."""
    if previous is not None and previous.cluster_id != flag.cluster_id and flag.ad_key in previous.ads:
        return with_ad(task, flag, at), without_ad(previous, flag.ad_key, at)
    return with_ad(task, flag, at), None


def check_attempt(channel: object, outcome: object, at: object, now: datetime | None = None) -> Attempt:
    """An attempt as a worker records it: a digital channel, an outcome code and an aware time not in the future."""
    checked_channel = code("channels", channel, "channel")
    checked_outcome = code("outcomes", outcome, "outcome")
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        # a naive time is ambiguous across the DST change and cannot be ordered against stored UTC times
        raise InvalidDate("at must be a date and time with a timezone", "at")
    if (at - (now or datetime.now(timezone.utc))).total_seconds() > CLOCK_SKEW_SECONDS:
        raise InvalidDate("at lies in the future", "at")
    if at < EARLIEST:
        raise InvalidDate(f"at lies before {EARLIEST.date().isoformat()}", "at")
    return Attempt(checked_channel, at, checked_outcome)


def state_after_attempt(state: str) -> str:
    if state not in OPEN_STATES:
        raise TaskClosed(f"the task is {state}; no more attempts can be recorded on it", "task_id")
    return "in_progress"


def record_attempt(task: Task, attempt: Attempt, at: datetime) -> Task:
    """The task with one more attempt; the same contact recorded twice is one attempt."""
    if attempt.contact_id is not None and any(a.contact_id == attempt.contact_id for a in task.attempts):
        return task
    return replace(task, state=state_after_attempt(task.state), attempts=(*task.attempts, attempt), updated_at=at)


def check_close(state: str, reason: object) -> str:
    if state not in OPEN_STATES:
        raise TaskClosed(f"the task is already {state}", "task_id")
    return code("closeReasons", reason, "reason")


def close(task: Task, reason: object, at: datetime) -> Task:
    return replace(task, state="closed", closed_reason=check_close(task.state, reason), updated_at=at)
