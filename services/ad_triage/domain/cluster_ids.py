"""A cluster's id: derived from its smallest member key, so the same ads give the same id however they arrived."""
from __future__ import annotations

import hashlib

from .records import AdKey


def cluster_id_for(key: AdKey) -> str:
    return "cl-" + hashlib.sha256(f"{key[0]}\x1f{key[1]}".encode()).hexdigest()[:16]
