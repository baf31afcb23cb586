"""Near-duplicate text as data that can be stored: a MinHash signature of the ad's word shingles and the bucket keys
(LSH bands) under which other ads with a similar signature are found, so linking needs no index in memory.

With 64 permutations in 8 bands of 8 rows, two texts of Jaccard similarity 0.7 share a bucket with probability
0.98 and texts of 0.3 with 0.0005; a shared bucket only proposes a candidate, the signatures confirm it.

The signature is datasketch's MinHash (scheme affine32: SHA-1's first 32 bits, the MurmurHash3 finaliser, affine
permutations mod 2^32 drawn from numpy's RandomState(seed)) computed here with numpy alone: importing datasketch
pulls in scipy, some 55 MiB of a process that otherwise needs none of it. A unit test holds the two equal.
"""
from __future__ import annotations

import hashlib
import re
import struct
from functools import lru_cache

import numpy as np

from .masking import MASK

NUM_PERM = 64  # enough resolution around a 0.7 threshold; more permutations cost linear time per ad
MINHASH_SEED = 1  # fixed so signatures, and therefore clusters, are reproducible across runs and machines
SHINGLE_WORDS = 3
MIN_SHINGLES = 3  # texts shorter than this say too little to call two ads duplicates
BANDS, ROWS = 8, 8  # what datasketch's MinHashLSH chooses for threshold 0.7 and 64 permutations
_WORD = re.compile(r"\w+")
_FMIX = (16, np.uint32(0x85EBCA6B), 13, np.uint32(0xC2B2AE35), 16)


def word_shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    """Lower-cased word n-grams; masked contact runs are dropped so a changed number does not hide a copy."""
    words = _WORD.findall(text.replace(MASK, " ").lower())
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


@lru_cache(maxsize=4)
def _affine(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def minhash(shingles: set[str], num_perm: int = NUM_PERM, seed: int = MINHASH_SEED) -> tuple[int, ...]:
    hv = np.array([struct.unpack("<I", hashlib.sha1(s.encode()).digest()[:4])[0] for s in sorted(shingles)],
                  dtype=np.uint32).reshape(-1, 1)
    s1, m1, s2, m2, s3 = _FMIX
    with np.errstate(over="ignore"):  # multiplication wraps modulo 2^32 on purpose
        hv = hv ^ (hv >> np.uint32(s1))
        hv = hv * m1
        hv = hv ^ (hv >> np.uint32(s2))
        hv = hv * m2
        hv = hv ^ (hv >> np.uint32(s3))
        a, b = _affine(num_perm, seed)
        values = (hv * a + b).min(axis=0)
    return tuple(int(v) for v in values)


def signature(text: str) -> tuple[int, ...] | None:
    """The text's MinHash signature, or None for a text too short to call anything its duplicate."""
    shingles = word_shingles(text)
    if len(shingles) < MIN_SHINGLES:
        return None
    return minhash(shingles)


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
    # big-endian 32-bit words: the hex of ``encode`` read in one call (a batch decodes thousands of candidates)
    return None if not text else struct.unpack(f">{len(text) // 8}I", bytes.fromhex(text))
