"""Link one batch of ads into the stored clusters, incrementally: the batch reads only the link keys its ads carry
(shared pseudonymous contacts, shared image hashes, near-duplicate text buckets) and the clusters those name, and
plans every write: clusters changed, merged or renamed, link keys to store, each ad's cluster.

Components do not depend on arrival order: contact and image links are exact, and text is linked only when the
estimated Jaccard similarity of two signatures passes the threshold, whichever ad came second. So two instances
ingesting one file together, each batch in its own transaction, end with the clusters one instance gives.

A text bucket remembers at most MAX_BUCKET ads (the first to arrive): a near-duplicate of a bucket's many ads
matches one of those, and a bucket of thousands of copies costs a batch no more than one of a hundred. (Each
remembered ad is a candidate read per new ad and band: at 32 the candidates' reads grew to a third of a batch's
time by 30,000 ads; at 8 they stay small.)
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .cluster_state import BestAd, ClusterState, merged
from .records import AdKey
from .text_signature import similarity

MAX_BUCKET = 8
CONTACT, IMAGE, TEXT = "c:", "i:", "t:"


@dataclass
class Link:
    """A stored link key: the cluster it joins (contact and image keys), its cities (contact keys: the spread
    signal), the ads that share it (text buckets, which are confirmed by similarity, not trusted)."""

    key: str
    cluster_id: str | None = None
    cities: list[str] = field(default_factory=list)
    ads: list[str] = field(default_factory=list)
    changed: bool = False


@dataclass(frozen=True)
class LinkInput:
    """What linking needs of one new or changed ad."""

    ad_id: str
    key: AdKey
    is_new: bool
    stored_cluster: str | None  # its cluster before this batch (a re-sighted ad)
    platform: str
    city: str | None  # canonical city, for the cluster's cities and the contacts' spread
    first_seen: object
    last_seen: object
    contacts: tuple[str, ...]  # every contact pseudonym the ad ever showed
    images: tuple[str, ...]
    bands: tuple[str, ...]  # its text signature's bucket keys (none for a text too short to compare)
    signature: tuple[int, ...] | None
    own: BestAd


@dataclass
class Plan:
    clusters: dict[str, ClusterState]  # final id -> state, every cluster the batch touched
    renamed: dict[str, str]  # stored id -> the final id it became (absorbed by a merge, or renamed)
    links: list[Link]  # link keys to store
    ad_cluster: dict[str, str]  # ad id -> final cluster id
    rescan_best: set[str]  # final ids whose best ad dropped: find the best among the stored members


class Linkage:
    def __init__(self, clusters: dict[str, ClusterState], links: dict[str, Link],
                 candidates: dict[str, tuple[str, tuple[int, ...]]], merge_queues: Callable,
                 threshold: float = 0.7) -> None:
        """``clusters``: the stored clusters the batch's link keys name; ``links``: the stored link keys of the batch;
        ``candidates``: ad id -> (stored cluster id, signature) for the ads the text buckets list."""
        self.states = dict(clusters)  # by the id the state had when loaded or founded
        self.stored = set(clusters)
        self.parent: dict[str, str] = {cid: cid for cid in clusters}
        self.links, self.candidates = links, dict(candidates)
        self.merge_queues, self.threshold = merge_queues, threshold
        self.ad_root: dict[str, str] = {}
        self.rescan: set[str] = set()

    def _find(self, cid: str) -> str:
        root = cid
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[cid] != root:
            self.parent[cid], cid = root, self.parent[cid]
        return root

    def _union(self, roots: Iterable[str]) -> str:
        roots = sorted(set(roots))
        survivor = roots[0]
        for other in roots[1:]:
            self.states[survivor] = merged(self.states[survivor], self.states.pop(other), self.merge_queues)
            self.parent[other] = survivor
            if other in self.rescan:
                self.rescan.discard(other)
                self.rescan.add(survivor)
        return survivor

    def _text_matches(self, ad: LinkInput, roots: set[str]) -> set[str]:
        found: set[str] = set()
        if ad.signature is None:
            return found
        for band in ad.bands:
            link = self.links.get(band)
            for other in link.ads if link else ():
                if other == ad.ad_id or other not in self.candidates:
                    continue
                cluster, signature = self.candidates[other]
                root = self._find(cluster)
                if root in roots or root in found:
                    continue  # one confirmed member per cluster is enough
                if similarity(ad.signature, signature) >= self.threshold:
                    found.add(root)
        return found

    def add(self, ad: LinkInput) -> None:
        roots = {self._find(ad.stored_cluster)} if ad.stored_cluster in self.parent else set()
        for key in [CONTACT + c for c in ad.contacts] + [IMAGE + i for i in ad.images]:
            link = self.links.get(key)
            if link is not None and link.cluster_id in self.parent:
                roots.add(self._find(link.cluster_id))
        roots |= self._text_matches(ad, roots)
        if roots:
            root = self._union(roots)
            state = self.states[root]
            state.join(ad.key, ad.platform, ad.city, ad.first_seen, ad.last_seen, ad.is_new)
        else:
            state = ClusterState.founded_by(ad.key, ad.platform, ad.city, ad.first_seen, ad.last_seen)
            root = state.cluster_id
            while root in self.parent:  # an id already taken in this batch (never expected): keep states apart
                root += "~"
            self.parent[root], self.states[root] = root, state
        if not state.offer_best(ad.own):
            self.rescan.add(root)
        self._store_links(ad, root, state)
        self.ad_root[ad.ad_id] = root
        if ad.signature is not None:
            self.candidates[ad.ad_id] = (root, ad.signature)

    def _store_links(self, ad: LinkInput, root: str, state: ClusterState) -> None:
        for key in [CONTACT + c for c in ad.contacts] + [IMAGE + i for i in ad.images]:
            link = self.links.get(key)
            if link is None:
                link = self.links[key] = Link(key, root, changed=True)
                if key.startswith(CONTACT):
                    state.contacts += 1
            if link.cluster_id != root:
                link.cluster_id, link.changed = root, True
            if key.startswith(CONTACT) and ad.city and ad.city not in link.cities:
                link.cities, link.changed = sorted({*link.cities, ad.city}), True
            if key.startswith(CONTACT):
                state.max_spread = max(state.max_spread, len(link.cities))
        for band in ad.bands:
            link = self.links.setdefault(band, Link(band))
            if len(link.ads) < MAX_BUCKET and ad.ad_id not in link.ads:
                link.ads.append(ad.ad_id)
                link.changed = True

    def plan(self) -> Plan:
        final = {root: state for root, state in self.states.items() if self._find(root) == root}
        by_final_id = {root: state.cluster_id for root, state in final.items()}
        renamed = {cid: by_final_id[self._find(cid)] for cid in self.stored
                   if by_final_id[self._find(cid)] != cid}
        for link in self.links.values():
            if link.cluster_id in self.parent:
                final_id = by_final_id[self._find(link.cluster_id)]
                link.changed = link.changed or link.cluster_id != final_id
                link.cluster_id = final_id
        return Plan(clusters={state.cluster_id: state for state in final.values()}, renamed=renamed,
                    links=[link for link in self.links.values() if link.changed],
                    ad_cluster={ad: by_final_id[self._find(root)] for ad, root in self.ad_root.items()},
                    rescan_best={by_final_id[self._find(r)] for r in self.rescan})
