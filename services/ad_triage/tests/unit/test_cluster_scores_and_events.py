"""A cluster's score (best ad's own score plus network signals) and the events a cluster's new score raises."""
from __future__ import annotations

from services.ad_triage.domain.events import FLAGGED, PRIORITY_CHANGED, cluster_events
from services.ad_triage.domain.ruleset import ruleset_version
from services.ad_triage.domain.scoring import FeatureEvidence, Fired, Score, cluster_score

RULESET = ruleset_version("1.0.0")  # cluster-size >= 5 weighs 1, contact-city-spread >= 3 weighs 1.5


def own(value: float, priority: str = "low") -> Score:
    return Score(value, priority, "1.0.0", (Fired("trust-professional-en", value, FeatureEvidence("x", 1), "r"),))


def test_network_signals_add_to_the_best_ads_own_score():
    alone = cluster_score(own(2), {"cluster_size": 1, "contact_city_spread": 1}, RULESET)
    network = cluster_score(own(2), {"cluster_size": 5, "contact_city_spread": 3}, RULESET)
    assert (alone.value, alone.priority) == (2, "low")
    assert (network.value, network.priority) == (4.5, "medium")
    assert [f.indicator_id for f in network.fired] == ["trust-professional-en", "contact-city-spread", "cluster-size"]


def scored(value: float) -> Score:
    return cluster_score(own(value), {"cluster_size": 1, "contact_city_spread": 0}, RULESET)


def test_a_cluster_is_flagged_once_per_version_on_its_best_ad():
    events, versions, announced = cluster_events("p/1", "odense", "cl-1", scored(4), None, [], [], RULESET,
                                                 "linked")
    assert [(t, ad) for t, ad, _ in events] == [(FLAGGED, "p/1")] and versions == ["1.0.0"]
    assert events[0][2] == {"adKey": "p/1", "clusterId": "cl-1", "score": 4.0, "priority": "medium",
                            "rulesetVersion": "1.0.0", "city": "odense"}
    stored = {"priority": "medium", "ruleset_version": "1.0.0", "value": 4}
    again, _, _ = cluster_events("p/1", "odense", "cl-1", scored(4.5), stored, versions, announced, RULESET,
                                 "linked")
    assert again == []


def test_a_priority_change_is_told_to_every_ad_outreach_knows_of_the_cluster():
    stored = {"priority": "medium", "ruleset_version": "1.0.0", "value": 4}
    announced = [["p/1", "cl-1", "medium", "1.0.0"], ["p/9", "cl-9", "medium", "1.0.0"]]  # p/9: a merged cluster
    events, _, rows = cluster_events("p/2", None, "cl-1", scored(6), stored, ["1.0.0"], announced, RULESET,
                                     "linked")
    told = {ad: (t, data["priority"], data["previousPriority"], data["clusterId"]) for t, ad, data in events}
    assert told == {"p/2": (PRIORITY_CHANGED, "high", "medium", "cl-1"),
                    "p/1": (PRIORITY_CHANGED, "high", "medium", "cl-1"),
                    "p/9": (PRIORITY_CHANGED, "high", "medium", "cl-1")}
    assert sorted(rows) == [["p/1", "cl-1", "high", "1.0.0"], ["p/2", "cl-1", "high", "1.0.0"],
                            ["p/9", "cl-1", "high", "1.0.0"]]
    quiet, _, _ = cluster_events("p/2", None, "cl-1", scored(6), {"priority": "high", "ruleset_version": "1.0.0"},
                                 ["1.0.0"], rows, RULESET, "linked")
    assert quiet == []
