"""Score a screening: which indicators the answers fired, which dimensions are positive, and the outcome.

The outcome comes from the instrument's own rule (data, see data/README.md "The rule language"), never from code
constants, so a screening scores the same under its version for ever and a corrected rule is a new version file.
An indicator fires when any of its questions is answered "yes"; "no", "unknown" and "declined" fire nothing (a
declined question is the person's right and must not count against or for them).

Scoring is pure: the same instrument and answers give the same Scoring, in the instrument's order. The
explanation is built from ids and counts only – it is shown to screeners and logged, so it never repeats text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .instruments import STRENGTHS, Indicator, Instrument, check_answers


@dataclass(frozen=True)
class Fired:
    indicator: str
    dimension: str | None
    strength: str | None
    questions: tuple[str, ...]  # the questions answered "yes" that fired it, in instrument order
    methods_of_control: tuple[str, ...]


@dataclass(frozen=True)
class Scoring:
    instrument: str
    version: str
    outcome: str
    fired: tuple[Fired, ...]
    dimensions: Mapping[str, bool]  # per dimension positive or not ({} for an instrument without dimensions)
    rule: str  # id of the rule clause that decided the outcome
    explanation: tuple[str, ...]
    methods_of_control: tuple[str, ...]  # union over fired, sorted


def _strength_counts(fired: list[Fired]) -> dict[str, int]:
    return {s: sum(1 for f in fired if f.strength == s) for s in STRENGTHS}


def _describe(counts: Mapping[str, int]) -> str:
    parts = [f"{n} {s}" for s, n in counts.items() if n]
    return ", ".join(parts) if parts else "nothing fired"


def _positive(counts: Mapping[str, int], alternatives) -> bool:
    """Any alternative whose every requirement ("at least n of these strengths") holds."""
    return any(all(sum(counts[s] for s in req["strengths"]) >= req["at_least"] for req in alternative)
               for alternative in alternatives)


def _condition(cond: Mapping, fired: list[Fired], dimensions: Mapping[str, bool]) -> tuple[bool, str]:
    if cond["count"] == "dimensions_positive":
        n = sum(1 for d in cond["of"] if dimensions[d])
        return n >= cond["at_least"], f"{n} of {', '.join(cond['of'])} positive (needs {cond['at_least']})"
    pool = [f for f in fired if ("of" not in cond or f.indicator in cond["of"])
            and ("strengths" not in cond or f.strength in cond["strengths"])]
    scope = []
    if "strengths" in cond:
        scope.append("/".join(cond["strengths"]))
    if "of" in cond:
        scope.append(f"among {', '.join(cond['of'])}")
    label = " ".join(["indicators fired", *scope])
    return len(pool) >= cond["at_least"], f"{len(pool)} {label} (needs {cond['at_least']})"


def score(instrument: Instrument, answers: Mapping[str, str]) -> Scoring:
    """The outcome of ``answers`` under ``instrument``'s rule; refuses answers check_answers refuses."""
    checked = check_answers(instrument, answers)
    yes_by_indicator: dict[str, list[str]] = {}
    for q in instrument.questions:
        if checked.get(q.id) == "yes":
            yes_by_indicator.setdefault(q.indicator, []).append(q.id)
    fired = [_fired(ind, yes_by_indicator[ind.id]) for ind in instrument.indicators if ind.id in yes_by_indicator]

    rule = instrument.rule
    explanation: list[str] = []
    dimensions: dict[str, bool] = {}
    for dim in instrument.dimensions:
        counts = _strength_counts([f for f in fired if f.dimension == dim])
        dimensions[dim] = _positive(counts, rule["dimension_positive"])
        explanation.append(f"{dim} {'positive' if dimensions[dim] else 'not positive'}: {_describe(counts)}")
    if not instrument.dimensions:
        ids = ", ".join(f.indicator for f in fired)
        explanation.append(f"{len(fired)} of {len(instrument.indicators)} indicators fired" + (f": {ids}" if ids else ""))

    for clause in rule["clauses"]:
        if clause.get("default"):
            decided, reasons = clause, ["no other clause matched"]
            break
        results = [_condition(cond, fired, dimensions) for cond in clause["when"]]
        if all(ok for ok, _ in results):
            decided, reasons = clause, [why for _, why in results]
            break
    explanation.append(f"{decided['id']} decided {decided['outcome']}: {'; '.join(reasons)}")
    unanswered = sum(1 for a in checked.values() if a in ("unknown", "declined"))
    if unanswered:
        explanation.append(f"{_n(unanswered, 'question')} answered unknown or declined (they fire nothing)")
    not_asked = len(instrument.questions) - len(checked)
    if not_asked:
        explanation.append(f"{_n(not_asked, 'question')} not answered")

    return Scoring(instrument.id, instrument.version, decided["outcome"], tuple(fired), dimensions, decided["id"],
                   tuple(explanation), tuple(sorted({c for f in fired for c in f.methods_of_control})))


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _fired(ind: Indicator, questions: list[str]) -> Fired:
    return Fired(ind.id, ind.dimension, ind.strength, tuple(questions), ind.methods_of_control)
