"""The outreach data files (services/outreach/data/), read once per process.

They ship inside the package, so a path relative to this module finds them in a checkout, a wheel and the image
alike; nothing is fetched at run time.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
RULES_DIR = DATA / "concern_rules"


@lru_cache(maxsize=None)
def read(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))
