"""Where a workplace is: a Statistics Denmark municipality code, and the region it lies in (data/municipalities.json).

Screenings hold the code, never an address: a workplace's location is kept at municipality level."""
from __future__ import annotations

from functools import lru_cache

from .data import read
from .errors import InvalidContext


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    return {m["code"]: m["region"] for m in read("municipalities.json")["municipalities"]}


def region_of(municipality: str) -> str:
    """The region of a municipality code ('101' København → 'hovedstaden'); an unknown code is refused."""
    code = municipality.lstrip("0") if isinstance(municipality, str) else None
    if not code or code not in _table():
        raise InvalidContext("municipality must be a Statistics Denmark municipality code such as 101",
                             "municipality")
    return _table()[code]


def municipalities() -> dict[str, str]:
    return dict(_table())
