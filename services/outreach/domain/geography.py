"""Denmark's five regions and 98 municipalities (data/geography.json), and which municipality an ad's city names.

Ad triage hands over a city folded to one spelling but keeping æ/ø/å ("københavn", "næstved", "helsingør") and
passes unknown places through case-folded; ads themselves write "Kobenhavn", "Koebenhavn", "Arhus", "Copenhagen".
``fold`` maps all of these to the ASCII spelling the data file's aliases use, so ``place_of`` answers for any of
them, and for a raw ad location too.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .data import read
from .errors import UnknownMunicipality, UnknownRegion

_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})


def fold(place: str) -> str:
    """Lowercase ASCII: NFKC and case-folded, æ→ae, ø→oe, å→aa, other accents dropped, dashes, commas and runs of
    spaces made one space ("Høje-Taastrup" → "hoeje taastrup")."""
    text = unicodedata.normalize("NFKC", place).casefold().translate(_DANISH)
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return " ".join(text.replace("-", " ").replace(",", " ").replace(".", " ").split())


@dataclass(frozen=True)
class Region:
    id: str  # hovedstaden, sjaelland, syddanmark, midtjylland, nordjylland
    code: str  # Danmarks Statistik's region code (1081..1085)
    name_da: str
    name_en: str


@dataclass(frozen=True)
class Municipality:
    code: str  # Danmarks Statistik's three-digit municipality code ("101")
    name: str
    region: str  # Region.id
    aliases: tuple[str, ...] = ()


class Geography:
    def __init__(self, data: dict) -> None:
        self.regions: dict[str, Region] = {
            r["id"]: Region(r["id"], str(r["code"]), r["name_da"], r["name_en"]) for r in data["regions"]}
        self.municipalities: dict[str, Municipality] = {}
        self._places: dict[str, Municipality] = {}
        for m in data["municipalities"]:
            if m["region"] not in self.regions:
                raise ValueError(f"municipality {m['code']} names region {m['region']!r}, which is not listed")
            muni = Municipality(str(m["code"]), m["name"], m["region"], tuple(m.get("aliases", ())))
            self.municipalities[muni.code] = muni
            for name in (muni.name, *muni.aliases):
                # first come wins, and the data test keeps aliases unique, so no town silently changes municipality
                self._places.setdefault(fold(name), muni)

    @classmethod
    @lru_cache(maxsize=1)
    def load(cls) -> "Geography":
        return cls(read("geography.json"))

    def region(self, region_id: object, field: str = "region") -> Region:
        found = self.regions.get(region_id) if isinstance(region_id, str) else None
        if found is None:
            raise UnknownRegion(f"{field} must be one of {', '.join(self.regions)}", field)
        return found

    def municipality(self, code: object, field: str = "municipality") -> Municipality:
        found = self.municipalities.get(code) if isinstance(code, str) else None
        if found is None:
            raise UnknownMunicipality(f"{field} must be a Danish municipality code of three digits (e.g. 101)",
                                      field)
        return found

    def region_of(self, code: str) -> str:
        return self.municipality(code).region

    def place_of(self, city: str | None) -> Municipality | None:
        """The municipality a city names (folded or not), or None when it names none we know."""
        if not isinstance(city, str) or not city.strip():
            return None
        return self._places.get(fold(city))

    def regions_of(self, cities) -> tuple[str, ...]:
        """The regions a set of cities lie in (unknown places are left out), sorted."""
        return tuple(sorted({m.region for m in map(self.place_of, cities) if m is not None}))

    def in_region(self, region_id: str) -> tuple[Municipality, ...]:
        return tuple(m for m in self.municipalities.values() if m.region == region_id)
