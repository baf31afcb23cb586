"""The industries a workplace screening names (data/sectors.json): Danish DB07 codes, sections A–U and the finer
codes for the sectors CMM names for forced labour.

DB07 (Danmarks Statistik's Dansk Branchekode 2007) is the national version of NACE Rev. 2, whose sections match
ISIC Rev. 4's one to one; each entry carries its ISIC section so HTCDS ``ForcedLabourIndustry`` (which is keyed by
ISIC section) can be filled without a second table. ``cmm_focus`` marks the sectors CMM names (cleaning, transport,
agriculture and horticulture, construction, distribution, hotels and restaurants): a screening programme can
offer those first, but any code is accepted.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from .data import read
from .errors import UnknownSector


@dataclass(frozen=True)
class Sector:
    code: str  # "F" (section), "43" (division), "81.2" (group), as DB07 writes them
    section: str  # the DB07/NACE section letter it belongs to
    isic: str  # the ISIC Rev. 4 section it corresponds to
    name: Mapping[str, str]  # {"da": ..., "en": ...}
    cmm_focus: bool


@lru_cache(maxsize=1)
def _table() -> dict[str, Sector]:
    table: dict[str, Sector] = {}
    for row in read("sectors.json")["sectors"]:
        s = Sector(str(row["code"]), row["section"], row["isic"], dict(row["name"]), bool(row["cmm_focus"]))
        if s.code in table:
            raise ValueError(f"sectors.json lists {s.code} twice")
        if s.section not in table and s.code != s.section:
            raise ValueError(f"sectors.json lists {s.code} before its section {s.section}")
        table[s.code] = s
    return table


def sectors() -> tuple[Sector, ...]:
    """Every listed code in file order: each section A–U followed by its finer codes."""
    return tuple(_table().values())


def sector(code: str) -> Sector:
    found = _table().get(code.strip()) if isinstance(code, str) else None
    if found is None:
        raise UnknownSector("no such DB07 sector code in the list (a section letter A–U or a listed finer code)",
                            field="sector")
    return found
