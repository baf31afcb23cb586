"""A venue's concern score: the signals seen there, each decaying with its own half-life, summed and banded.

The rules are versioned data (data/concern_rules/<version>.json) so outreach staff can tune weights, half-lives,
bands and revisit intervals without code; a new file is a new version and old scores stay explainable by theirs.
Every score names its rule-set version and lists each contribution, so staff can see why a venue is of concern.

A signal's contribution depends on its own weight and age only: weight × 0.5 ** (age_days / half_life). The score
is the plain sum, so adding a signal never lowers it and the order in which signals arrive does not matter.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

from .data import RULES_DIR
from .errors import InvalidSignal, RulesError

SIGNAL_KINDS = ("cluster_linked", "visit_indicators", "screening_outcome", "inspection_note", "identification")
LEVELS = ("none", "low", "medium", "high")  # by rank: the index is the rank
BANDED = ("high", "medium", "low")  # the levels a rule set gives thresholds for, highest first
_CODED = ("cluster_linked", "screening_outcome", "inspection_note")  # weight looked up by the signal's code
_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")


def version_key(version: str) -> tuple[int, ...]:
    """Numeric order of versions: 1.10.0 comes after 1.9.0 (a string sort would put it before)."""
    if not _VERSION.match(version):
        raise RulesError(f"rule-set version {version!r} is not of the form major.minor.patch")
    return tuple(int(p) for p in version.split("."))


def newest(names: Iterable[str]) -> str:
    ordered = sorted(names, key=version_key)
    if not ordered:
        raise RulesError("there is no concern rule set")
    return ordered[-1]


@dataclass(frozen=True)
class ConcernRules:
    version: str
    levels: tuple[tuple[str, float], ...]  # (level, lowest score of the band), highest band first
    of_concern_from: str
    revisit_days: Mapping[str, int | None]
    signals: Mapping[str, Mapping]

    @classmethod
    def from_dict(cls, d: dict) -> "ConcernRules":
        version = str(d.get("version"))
        version_key(version)
        try:
            levels = tuple((str(name), float(low)) for name, low in d["levels"])
            of_concern_from = d["ofConcernFrom"]
            revisit = {str(k): (None if v is None else int(v)) for k, v in d["revisitDays"].items()}
            signals = {k: dict(v) for k, v in d["signals"].items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise RulesError(f"rule set {version}: malformed ({exc.__class__.__name__}: {exc})") from None
        if tuple(n for n, _ in levels) != BANDED or any(a[1] <= b[1] for a, b in zip(levels, levels[1:])) \
                or levels[-1][1] <= 0:
            raise RulesError(f"rule set {version}: levels must be high, medium, low with falling positive thresholds")
        if of_concern_from not in BANDED:
            raise RulesError(f"rule set {version}: ofConcernFrom must be one of {', '.join(BANDED)}")
        if set(revisit) != set(LEVELS) or any(v is not None and v <= 0 for v in revisit.values()):
            raise RulesError(f"rule set {version}: revisitDays gives a positive number of days (or null) per level")
        if set(signals) != set(SIGNAL_KINDS):
            raise RulesError(f"rule set {version}: signals must be exactly {', '.join(SIGNAL_KINDS)}")
        for kind, spec in signals.items():
            weights = [*spec.get("weights", {}).values(), *(spec[k] for k in ("perIndicator", "maxPerVisit",
                                                                              "perPerson") if k in spec)]
            if not float(spec.get("halfLifeDays", 0)) > 0 or not weights or any(float(w) < 0 for w in weights):
                # a negative weight would let a new signal lower the score: the rules promise it never does
                raise RulesError(f"rule set {version}: {kind} needs a positive halfLifeDays and weights ≥ 0")
        return cls(version, levels, of_concern_from, revisit, signals)

    def level(self, value: float) -> str:
        for name, low in self.levels:
            if value >= low:
                return name
        return "none"

    def of_concern(self, level: str) -> bool:
        return LEVELS.index(level) >= LEVELS.index(self.of_concern_from)

    def half_life(self, kind: str) -> float:
        return float(self.signals[kind]["halfLifeDays"])

    def half_lives(self) -> dict[str, float]:
        return {kind: self.half_life(kind) for kind in SIGNAL_KINDS}

    def weight(self, kind: str, value: object) -> float:
        spec = self.signals[kind]
        if kind in _CODED:
            # a code this version does not weigh counts nothing rather than failing a sweep over old signals
            return float(spec["weights"].get(value, 0.0))
        if kind == "visit_indicators":
            return min(float(spec["maxPerVisit"]), float(spec["perIndicator"]) * int(value))
        return float(spec["perPerson"]) * int(value)

    def thresholds(self) -> list[list]:
        return [[name, low] for name, low in self.levels]


def versions(directory: Path | None = None) -> list[str]:
    """The rule-set versions on disk, oldest first."""
    return sorted((p.stem for p in Path(directory or RULES_DIR).glob("*.json")), key=version_key)


@lru_cache(maxsize=None)
def load_rules(version: str | None = None, directory: Path | None = None) -> ConcernRules:
    """The rule set of ``version``, or the newest when it is None or empty (OUTREACH_CONCERN_RULES_VERSION unset)."""
    folder = Path(directory or RULES_DIR)
    known = versions(folder)
    chosen = version or newest(known)
    if chosen not in known:
        raise RulesError(f"no concern rule set {chosen!r}; there are {', '.join(known)}")
    rules = ConcernRules.from_dict(json.loads((folder / f"{chosen}.json").read_text(encoding="utf-8")))
    if rules.version != chosen:
        raise RulesError(f"concern_rules/{chosen}.json says it is version {rules.version}")
    return rules


@dataclass(frozen=True)
class Signal:
    kind: str
    source_id: str  # the cluster, visit, inspection note or identification record it came from
    on: date
    value: object  # priority, indicator count, outcome or finding code, or persons identified


@dataclass(frozen=True)
class Contribution:
    kind: str
    source_id: str
    on: date
    weight: float
    decayed: float
    half_life_days: float
    detail: str  # codes and counts only ("priority high", "3 indicators"): shown in the explanation


@dataclass(frozen=True)
class Concern:
    score: float  # rounded to 3 decimals
    level: str
    of_concern: bool
    ruleset_version: str
    computed_on: date
    contributions: tuple[Contribution, ...] = field(default_factory=tuple)  # largest decayed weight first


def check_signal(kind: object, value: object, field: str = "value") -> object:
    """The value a signal of ``kind`` must carry; the commands check before storing a signal."""
    if kind not in SIGNAL_KINDS:
        raise InvalidSignal(f"signal kind must be one of {', '.join(SIGNAL_KINDS)}", "kind")
    if kind in _CODED:
        if not isinstance(value, str):
            raise InvalidSignal(f"a {kind} signal carries a code", field)
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if kind == "visit_indicators" else 1):
        raise InvalidSignal(f"a {kind} signal carries a whole number "
                            f"({'0' if kind == 'visit_indicators' else '1'} or more)", field)
    return value


def decayed(weight: float, age_days: float, half_life_days: float) -> float:
    """Half the weight after each half-life. A signal dated after ``on`` counts at full weight, never more (the
    edges refuse future dates; this only keeps a clock skew from inflating a score)."""
    return weight * 0.5 ** (max(0.0, age_days) / half_life_days)


def _detail(kind: str, value: object) -> str:
    if kind == "cluster_linked":
        return f"priority {value}"
    if kind == "visit_indicators":
        return f"{value} indicator{'' if value == 1 else 's'}"
    if kind == "screening_outcome":
        return f"outcome {value}"
    if kind == "inspection_note":
        return f"finding {value}"
    return f"{value} person{'' if value == 1 else 's'} identified"


def contribution(signal: Signal, rules: ConcernRules, on: date) -> Contribution:
    weight = rules.weight(signal.kind, signal.value)
    half_life = rules.half_life(signal.kind)
    return Contribution(signal.kind, signal.source_id, signal.on, weight,
                        decayed(weight, (on - signal.on).days, half_life), half_life, _detail(signal.kind, signal.value))


def score(signals: Iterable[Signal], rules: ConcernRules, on: date) -> Concern:
    contributions = sorted((contribution(s, rules, on) for s in signals),
                           key=lambda c: (-c.decayed, c.kind, c.source_id, c.on, c.detail, c.weight))
    # fsum is exact then rounded once: the total does not depend on the order of the signals
    total = round(math.fsum(c.decayed for c in contributions), 3)
    level = rules.level(total)
    return Concern(total, level, rules.of_concern(level), rules.version, on, tuple(contributions))


def revisit_days(level: str, rules: ConcernRules) -> int | None:
    """Days until the next visit after one at a venue of ``level``; None: no revisit is planned."""
    return rules.revisit_days.get(level)


def changed(before_level: str | None, before_of_concern: bool | None, after: Concern) -> bool:
    """Whether a new score is news (a concern_changed event): the level or "of concern" moved."""
    return (before_level or "none") != after.level or bool(before_of_concern) != after.of_concern
