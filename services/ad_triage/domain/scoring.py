"""Score an ad against a rule set, with the evidence for every indicator that fired.

Deterministic by construction: indicators are evaluated in file order, weights are integer thousandths, and the
result carries the rule-set version, so a stored score can be reproduced and compared after a rule change.
Pattern evidence points into masked text, so an evidence snippet can never contain a contact value.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .features import NETWORK_FEATURES, compute_features
from .masking import mask_contacts
from .records import AdKey
from .ruleset import Indicator, RuleSet
from .stored import StoredAd

SNIPPET_MAX = 80  # long enough to show the phrase, short enough not to copy the ad into the score record


class MissingFeature(KeyError):
    def __init__(self, feature: str, indicator_id: str):
        super().__init__(f"feature {feature!r} needed by indicator {indicator_id!r} was not computed")
        self.feature, self.indicator_id = feature, indicator_id


@dataclass(frozen=True)
class PatternEvidence:
    field: str  # "title" or "text"
    start: int
    end: int
    snippet: str


@dataclass(frozen=True)
class FeatureEvidence:
    feature: str
    value: float


@dataclass(frozen=True)
class Fired:
    indicator_id: str
    weight: float
    evidence: PatternEvidence | FeatureEvidence
    rationale: str


@dataclass(frozen=True)
class Score:
    value: float
    priority: str  # "high", "medium", "low" or "none"
    ruleset_version: str
    fired: tuple[Fired, ...]

    @property
    def value_milli(self) -> int:
        return round(self.value * 1000)


def _pattern_evidence(indicator: Indicator, fields: tuple[tuple[str, str], ...]) -> PatternEvidence | None:
    assert indicator.pattern is not None
    for name, text in fields:
        for match in indicator.pattern.finditer(text):
            if match.end() > match.start():  # an empty match is no evidence of anything
                return PatternEvidence(name, match.start(), match.end(), match.group(0)[:SNIPPET_MAX])
    return None


def _feature_evidence(indicator: Indicator, features: Mapping[str, float]) -> FeatureEvidence | None:
    assert indicator.feature is not None and indicator.threshold_milli is not None
    if indicator.feature not in features:
        raise MissingFeature(indicator.feature, indicator.id)
    value = features[indicator.feature]
    return FeatureEvidence(indicator.feature, value) if round(value * 1000) >= indicator.threshold_milli else None


def priority_for(total_milli: int, ruleset: RuleSet) -> str:
    for name, cut_off in ruleset.priority_milli:  # ordered high to low
        if total_milli >= cut_off:
            return name
    return "none"


def score(ad: StoredAd, features: Mapping[str, float], ruleset: RuleSet, *, text_is_masked: bool = False,
          skip_features: frozenset[str] = frozenset()) -> Score:
    """Score one stored ad. ``features`` must hold every feature the rule set's feature indicators name, except
    those in ``skip_features``, whose indicators are left out (network signals are the cluster's, not the ad's).

    ``text_is_masked`` lets a caller that built the ad with to_stored (or masked it itself) skip the second masking
    pass, which is over half the cost of a score; by default evidence is masked even if a caller passed raw text.
    """
    fields = ((("title", ad.title), ("text", ad.text)) if text_is_masked
              else (("title", mask_contacts(ad.title)), ("text", mask_contacts(ad.text))))
    fired: list[Fired] = []
    total = 0
    for indicator in ruleset.indicators:
        if not indicator.applies_to(ad.language) or indicator.feature in skip_features:
            continue
        evidence = (_pattern_evidence(indicator, fields) if indicator.kind == "pattern"
                    else _feature_evidence(indicator, features))
        if evidence is None:
            continue
        fired.append(Fired(indicator.id, indicator.weight, evidence, indicator.rationale))
        total += indicator.weight_milli
    return Score(total / 1000, priority_for(total, ruleset), ruleset.version, tuple(fired))


def own_score(ad: StoredAd, ruleset: RuleSet) -> Score:
    """The ad's own score: its text and its own features, without the network signals of its cluster."""
    return score(ad, compute_features(ad), ruleset, text_is_masked=True, skip_features=NETWORK_FEATURES)


def cluster_score(best: Score, network: Mapping[str, float], ruleset: RuleSet) -> Score:
    """A cluster's score: its best ad's own score plus the network indicators that fire on the cluster's features
    (size, widest contact spread). The priority bands of the rule set apply to this total. While a rescore runs,
    the best ad may still carry the previous version's own score: the rescore's last phase scores it again."""
    fired = list(best.fired)
    total = sum(round(f.weight * 1000) for f in fired)
    for indicator in ruleset.indicators:
        if indicator.feature not in NETWORK_FEATURES:
            continue  # network signals are about the cluster, whatever its ads' languages
        evidence = _feature_evidence(indicator, network)
        if evidence is not None:
            fired.append(Fired(indicator.id, indicator.weight, evidence, indicator.rationale))
            total += indicator.weight_milli
    return Score(total / 1000, priority_for(total, ruleset), ruleset.version, tuple(fired))


def rescore(
    ads: Iterable[tuple[StoredAd, Mapping[str, float]]],
    old_scores: Mapping[AdKey, Score],
    new_ruleset: RuleSet,
) -> list[tuple[AdKey, Score | None, Score]]:
    """Rescore ``ads`` and list those whose priority changed, sorted by ad key.

    An ad with no old score counts as priority "none" before, so newly relevant ads are listed too.
    """
    changed = []
    for ad, features in ads:
        old, new = old_scores.get(ad.key), score(ad, features, new_ruleset)
        if (old.priority if old else "none") != new.priority:
            changed.append((ad.key, old, new))
    return sorted(changed, key=lambda row: row[0])
