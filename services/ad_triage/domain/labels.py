"""Outreach outcomes as labels of ad clusters: what an outreach contact tells ad triage about a flagged cluster.

Outreach publishes ``outreach.contact.made`` (a digital attempt on a cluster's task, or a contact at a venue) and
``outreach.identification_talk.held``. Only events naming a cluster are labels: a contact at a venue names none and
tells nothing about a flagged ad. A label is kept per (cluster, contact) and counts for the rule-set version the
event carries: the version whose flag opened the outreach task, so a cluster reached after a newer rule set was
published still counts for the version that found it.

- reached: the outcome is one of REACHED_OUTCOMES (a conversation held, information given, an identification talk
  agreed), or an identification talk was held;
- identification talk: the outcome ``identification_talk_agreed``, or an ``identification_talk.held`` event;
- attempt: the label came from a contact (``contact.made``); a talk held is the result of an attempt, not another one.

Plain Python: no framework, no storage.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .errors import AdTriageError

CONTACT_MADE = "outreach.contact.made"
TALK_HELD = "outreach.identification_talk.held"
LABEL_EVENTS = (CONTACT_MADE, TALK_HELD)

OUTCOMES = ("no_answer", "wrong_number", "declined", "conversation_held", "information_given",
            "identification_talk_agreed")
REACHED_OUTCOMES = frozenset({"conversation_held", "information_given", "identification_talk_agreed"})
TALK_OUTCOME = "identification_talk_agreed"


class UnknownOutcome(AdTriageError, code="unknown_outcome", field="outcome"):
    """An outreach outcome this service does not know (its contract and this list disagree)."""


class NotALabelEvent(AdTriageError, code="not_a_label_event", field="type"):
    """An event type that carries no outreach outcome."""


def reached(outcome: str) -> bool:
    """Whether a contact with this outcome reached the person behind the ads."""
    if outcome not in OUTCOMES:
        raise UnknownOutcome(f"unknown outreach outcome {outcome!r}")
    return outcome in REACHED_OUTCOMES


def led_to_identification_talk(event_type: str, outcome: str | None) -> bool:
    """An identification talk was agreed in the contact, or one was held."""
    if event_type == TALK_HELD:
        return True
    if outcome is None or outcome not in OUTCOMES:
        raise UnknownOutcome(f"unknown outreach outcome {outcome!r}")
    return outcome == TALK_OUTCOME


@dataclass(frozen=True)
class Label:
    """What outreach learnt about one cluster in one contact."""

    cluster_id: str
    contact_id: str
    ruleset_version: str | None  # None: the task carried none, so the label counts for no version
    on: str  # the day of the contact or talk (ISO date)
    outcome: str | None  # of the contact; None for a talk held without a contact of this id
    reached: bool
    identification_talk: bool
    attempt: bool  # the label came from a contact.made (an outreach attempt)

    @property
    def label_id(self) -> str:
        return label_id(self.cluster_id, self.contact_id)


def label_id(cluster_id: str, contact_id: str) -> str:
    return f"{cluster_id}:{contact_id}"


def label_from(event_type: str, data: dict) -> Label | None:
    """The label an outreach event gives, or None when it names no cluster (a contact at a venue)."""
    if event_type not in LABEL_EVENTS:
        raise NotALabelEvent(f"{event_type!r} is not an outreach outcome")
    cluster_id = data.get("clusterId")
    if not cluster_id:
        return None
    if event_type == CONTACT_MADE:
        outcome = data["outcome"]
        return Label(cluster_id=cluster_id, contact_id=data["contactId"], ruleset_version=data.get("rulesetVersion"),
                     on=data["occurredOn"], outcome=outcome, reached=reached(outcome),
                     identification_talk=led_to_identification_talk(event_type, outcome), attempt=True)
    return Label(cluster_id=cluster_id, contact_id=data["contactId"], ruleset_version=data.get("rulesetVersion"),
                 on=data["heldOn"], outcome=None, reached=True, identification_talk=True, attempt=False)


def merged(old: Label | None, new: Label) -> Label:
    """One label per (cluster, contact): a later event about the same contact adds to what is known, never takes
    away (a talk held after the contact keeps the contact's outcome; the contact's version stands)."""
    if old is None:
        return new
    if (old.cluster_id, old.contact_id) != (new.cluster_id, new.contact_id):
        raise ValueError("labels of different (cluster, contact) pairs cannot be merged")
    return replace(old, ruleset_version=old.ruleset_version or new.ruleset_version, on=min(old.on, new.on),
                   outcome=old.outcome or new.outcome, reached=old.reached or new.reached,
                   identification_talk=old.identification_talk or new.identification_talk,
                   attempt=old.attempt or new.attempt)


@dataclass(frozen=True)
class VersionOutcomes:
    """The figures of one rule-set version."""

    ruleset_version: str
    flagged_clusters: int
    reached_clusters: int
    identification_talk_clusters: int
    attempts: int


def version_key(version: str) -> tuple:
    """Sort rule-set versions as numbers (1.10.0 after 1.9.0); anything else after them, by text."""
    parts = version.split(".")
    if all(p.isdigit() for p in parts):
        return (0, tuple(int(p) for p in parts), version)
    return (1, (), version)


def outcomes_per_version(flagged_from_ads: dict[str, int], labelled: list[tuple[str, str, bool, bool, int]],
                         flagged_pairs_of_labelled: set[tuple[str, str]]) -> list[VersionOutcomes]:
    """Combine the figures storage aggregated.

    ``flagged_from_ads``: version -> distinct current clusters with an ad flagged under it;
    ``labelled``: one row per (version, cluster) with labels: (version, cluster, reached, talk, attempts);
    ``flagged_pairs_of_labelled``: the (version, cluster) pairs of labelled clusters that the ads also show flagged.
    A labelled cluster counts as flagged under its label's version even when no ad shows it now (its ads were
    re-linked into another cluster since, or rescored): the flag that opened the task happened all the same.
    """
    figures: dict[str, list[int]] = {v: [n, 0, 0, 0] for v, n in flagged_from_ads.items()}
    for version, cluster, was_reached, talk, attempts in labelled:
        row = figures.setdefault(version, [0, 0, 0, 0])
        if (version, cluster) not in flagged_pairs_of_labelled:
            row[0] += 1
        row[1] += int(was_reached)
        row[2] += int(talk)
        row[3] += attempts
    return [VersionOutcomes(v, *figures[v]) for v in sorted(figures, key=version_key)]
