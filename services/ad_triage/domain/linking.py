"""Link ads into clusters: shared pseudonymous contacts, or near-duplicate text (MinHash LSH).

Clusters approximate "one author or network" (REFERENCE.md network signals, unvalidated hypotheses). Components do
not depend on the order ads arrive in: contact links are exact, and a text pair is linked only when its
estimated Jaccard similarity passes the threshold, whichever ad came second. Cluster ids derive from the smallest
ad key in the component, so the same input always gives the same ids.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from datasketch import MinHash, MinHashLSH

from .cluster_ids import cluster_id_for
from .records import AdKey
from .text_signature import MIN_SHINGLES, MINHASH_SEED, NUM_PERM, word_shingles

__all__ = ["MIN_SHINGLES", "Linker", "cluster_id_for", "word_shingles"]


@lru_cache(maxsize=4)
def _permutations(num_perm: int):
    """The seed's permutations, made once: MinHash would otherwise regenerate them for every ad (a third of the
    linking time). Same seed, same arrays, so signatures are unchanged."""
    template = MinHash(num_perm=num_perm, seed=MINHASH_SEED)
    return template.permutations, template.scheme


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[AdKey, AdKey] = {}
        self.smallest: dict[AdKey, AdKey] = {}  # per root: smallest member key, the cluster's name-giver
        self.members: dict[AdKey, list[AdKey]] = {}

    def add(self, key: AdKey) -> None:
        if key not in self.parent:
            self.parent[key], self.smallest[key], self.members[key] = key, key, [key]

    def find(self, key: AdKey) -> AdKey:
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:  # path compression keeps later finds near O(1)
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a: AdKey, b: AdKey) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if len(self.members[ra]) < len(self.members[rb]):  # union by size
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra] += self.members.pop(rb)
        self.smallest[ra] = min(self.smallest[ra], self.smallest.pop(rb))


class Linker:
    """Incremental clustering; call add() as ads arrive and read cluster ids at any time."""

    def __init__(self, threshold: float = 0.7, num_perm: int = NUM_PERM):
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self._num_perm = num_perm
        self._uf = _UnionFind()
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._signatures: dict[str, MinHash] = {}
        self._by_contact: dict[str, AdKey] = {}
        self._lsh_name: dict[str, AdKey] = {}

    def add(self, ad_key: AdKey, contact_pseudonyms: Iterable[str], text: str) -> str:
        """Add (or re-add) an ad and return its cluster id as of now; merges may change it later."""
        self._uf.add(ad_key)
        for pseudonym in contact_pseudonyms:
            first = self._by_contact.setdefault(pseudonym, ad_key)
            self._uf.union(first, ad_key)
        self._link_text(ad_key, text)
        return self.cluster_of(ad_key)

    def _link_text(self, ad_key: AdKey, text: str) -> None:
        shingles = word_shingles(text)
        name = f"{ad_key[0]}\x1f{ad_key[1]}"
        if len(shingles) < MIN_SHINGLES or name in self._signatures:
            return
        permutations, scheme = _permutations(self._num_perm)
        signature = MinHash(num_perm=self._num_perm, seed=MINHASH_SEED, permutations=permutations, scheme=scheme)
        signature.update_batch(sorted(s.encode() for s in shingles))
        for candidate in self._lsh.query(signature):
            # LSH only proposes candidates; confirm with the estimate so linking is symmetric in arrival order.
            if signature.jaccard(self._signatures[candidate]) >= self.threshold:
                self._uf.union(self._lsh_name[candidate], ad_key)
        self._lsh.insert(name, signature)
        self._signatures[name], self._lsh_name[name] = signature, ad_key

    def cluster_of(self, ad_key: AdKey) -> str:
        return cluster_id_for(self._uf.smallest[self._uf.find(ad_key)])

    def cluster_size(self, ad_key: AdKey) -> int:
        return len(self._uf.members[self._uf.find(ad_key)])

    def members_of(self, ad_key: AdKey) -> tuple[AdKey, ...]:
        """The member keys of the ad's cluster, sorted; cheaper than clusters() when one cluster changed."""
        return tuple(sorted(self._uf.members[self._uf.find(ad_key)]))

    def __contains__(self, ad_key: AdKey) -> bool:
        return ad_key in self._uf.parent

    def clusters(self) -> dict[str, tuple[AdKey, ...]]:
        """Every cluster id with its member ad keys, sorted, for a deterministic listing."""
        return {
            cluster_id_for(self._uf.smallest[root]): tuple(sorted(members))
            for root, members in sorted(self._uf.members.items(), key=lambda item: self._uf.smallest[item[0]])
        }
