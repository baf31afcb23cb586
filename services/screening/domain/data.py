"""The screening data files (services/screening/data/), read once per process.

They ship inside the package, so a path relative to this module finds them in a checkout, a wheel and the image
alike; nothing is fetched at run time. Each file is parsed once and cached: callers must not mutate what ``read``
returns (the instrument and sector modules copy what they keep into frozen values).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
INSTRUMENTS_DIR = DATA / "instruments"


@lru_cache(maxsize=None)
def read(relative_path: str) -> dict:
    """The JSON document at ``relative_path`` under data/ ("sectors.json", "instruments/ilo-11/1.0.0.json")."""
    return json.loads((DATA / relative_path).read_text(encoding="utf-8"))
