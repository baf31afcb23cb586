"""A cluster as it is stored: the facts kept on the cluster itself, so adding an ad changes one cluster document
and never rewrites the cluster's other members.

A cluster approximates "one advertiser or network" (REFERENCE.md network signals, unvalidated hypotheses). What
triage needs of it is kept incrementally: its size, cities and platforms, first and last sighting, how many
distinct contacts it shows and the widest city spread of any one of them, its best ad (the member whose own score
is highest: the cluster's evidence), the rule-set versions it was flagged under and its queue state.

Its id derives from its smallest member key (cluster_ids.py), as the one-pass reference (linking.Linker) names it, so the same ads
give the same ids whatever order, and however many instances, they arrived in.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from .cluster_ids import cluster_id_for
from .records import AdKey

MAX_ANNOUNCED = 20  # ads whose events carried the cluster's priority; one per earlier best ad, in practice few


@dataclass(frozen=True)
class BestAd:
    """A member's own score (its content, without network signals), enough to order members."""

    ad_id: str
    score_milli: int
    last_seen: datetime
    ruleset_version: str
    city: str | None = None  # the listed city it names (places.known_city), for the events about the cluster
    evidence: object = field(default=None, compare=False)  # its stored own score, kept with the cluster

    def order(self) -> tuple:
        # highest score, then most recently seen; the id makes the choice total
        return (-self.score_milli, -self.last_seen.timestamp(), self.ad_id)


@dataclass
class ClusterState:
    cluster_id: str
    min_key: AdKey
    size: int
    cities: set[str]
    platforms: set[str]
    first_seen: datetime
    last_seen: datetime
    contacts: int = 0
    max_spread: int = 0
    best: BestAd | None = None
    flagged_versions: list[str] = field(default_factory=list)
    announced: list[list] = field(default_factory=list)  # [ad key, cluster id, priority, version] (events.py)
    queue: dict | None = None  # the triage queue state: opaque here, merged by triage.merged_queue
    previous: dict | None = None  # what events compare with: the stored score of this id, None for a new id

    @classmethod
    def founded_by(cls, key: AdKey, platform: str, city: str | None, first_seen: datetime,
                   last_seen: datetime) -> "ClusterState":
        return cls(cluster_id_for(key), key, 1, {city} if city else set(), {platform}, first_seen, last_seen)

    def join(self, key: AdKey, platform: str, city: str | None, first_seen: datetime, last_seen: datetime,
             is_new: bool) -> None:
        """Add a member's facts (a new ad counts once; a re-sighted member only widens the facts)."""
        if is_new:
            self.size += 1
        if city:
            self.cities.add(city)
        self.platforms.add(platform)
        self.first_seen, self.last_seen = min(self.first_seen, first_seen), max(self.last_seen, last_seen)
        if key < self.min_key:
            self.min_key = key
            self.cluster_id = cluster_id_for(key)

    def offer_best(self, candidate: BestAd) -> bool:
        """Take ``candidate`` as the best ad if it is better; False when the member was the best and dropped, so
        the best must be found again among the stored members."""
        best = self.best
        if best is None or candidate.order() < best.order() or best.ruleset_version != candidate.ruleset_version:
            self.best = candidate
            return True
        if best.ad_id == candidate.ad_id:
            self.best = candidate
            return candidate.order() <= best.order()
        return True


def merged(a: ClusterState, b: ClusterState, merge_queues) -> ClusterState:
    """One cluster of two that a new link joined; it is named by the smaller of their smallest keys."""
    first, second = (a, b) if a.min_key <= b.min_key else (b, a)
    best = min((s.best for s in (a, b) if s.best is not None), key=BestAd.order, default=None)
    return replace(
        first, size=a.size + b.size, cities=a.cities | b.cities, platforms=a.platforms | b.platforms,
        first_seen=min(a.first_seen, b.first_seen), last_seen=max(a.last_seen, b.last_seen),
        contacts=a.contacts + b.contacts, max_spread=max(a.max_spread, b.max_spread), best=best,
        flagged_versions=sorted(set(a.flagged_versions) | set(b.flagged_versions)),
        announced=list({row[0]: row for row in second.announced + first.announced}.values())[-MAX_ANNOUNCED:],
        queue=merge_queues(first.queue, second.queue))
