"""Near-duplicate text as data that can be stored: a MinHash signature of the ad's word shingles and the bucket keys
(LSH bands) under which other ads with a similar signature are found, so linking needs no index in memory.

With 64 permutations in 8 bands of 8 rows, two texts of Jaccard similarity 0.7 share a bucket with probability
0.98 and texts of 0.3 with 0.0005; a shared bucket only proposes a candidate, the signatures confirm it.
"""
from __future__ import annotations

import hashlib

from datasketch import MinHash

from .linking import MIN_SHINGLES, MINHASH_SEED, NUM_PERM, _permutations, word_shingles

BANDS, ROWS = 8, 8  # what datasketch's MinHashLSH chooses for threshold 0.7 and 64 permutations


def signature(text: str) -> tuple[int, ...] | None:
    """The text's MinHash signature, or None for a text too short to call anything its duplicate."""
    shingles = word_shingles(text)
    if len(shingles) < MIN_SHINGLES:
        return None
    permutations, scheme = _permutations(NUM_PERM)
    minhash = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, permutations=permutations, scheme=scheme)
    minhash.update_batch(sorted(s.encode() for s in shingles))
    return tuple(int(v) for v in minhash.hashvalues)


def bands(sig: tuple[int, ...] | None) -> tuple[str, ...]:
    if sig is None:
        return ()
    keys = []
    for band in range(BANDS):
        rows = ",".join(str(v) for v in sig[band * ROWS:(band + 1) * ROWS])
        keys.append(f"t:{band}:{hashlib.blake2b(rows.encode(), digest_size=10).hexdigest()}")
    return tuple(keys)


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity: the share of equal signature values (MinHash.jaccard)."""
    return sum(x == y for x, y in zip(a, b)) / len(a)


def encode(sig: tuple[int, ...] | None) -> str | None:
    """A compact stored form (hex of 32-bit values: MinHash values are below 2**32)."""
    return None if sig is None else "".join(f"{v:08x}" for v in sig)


def decode(text: str | None) -> tuple[int, ...] | None:
    return None if not text else tuple(int(text[i:i + 8], 16) for i in range(0, len(text), 8))
