"""Stated ad locations: spelling variants folded to one city name, and the country each city is in.

Ads spell cities many ways ("Kbh", "Copenhagen", "Arhus"); a contact's city spread must count København once.
The list covers the cities the outreach pools work in; unknown places pass through case-folded, with no country.
What leaves the service (events, views) is ``known_city``: a city of the list or None, never the advertiser's text.
"""
from __future__ import annotations

from .deobfuscation import normalise_text

_ALIASES = {
    "københavn": ("københavn", "kobenhavn", "koebenhavn", "kbh", "copenhagen", "cph", "kbh k", "københavn k"),
    "aarhus": ("aarhus", "århus", "arhus"),
    "odense": ("odense",),
    "aalborg": ("aalborg", "ålborg", "alborg"),
    "roskilde": ("roskilde",),
    "næstved": ("næstved", "naestved", "nastved"),
    "esbjerg": ("esbjerg",),
    "frederiksberg": ("frederiksberg",),
    "vejle": ("vejle",),
    "randers": ("randers",),
    "kolding": ("kolding",),
    "horsens": ("horsens",),
    "herning": ("herning",),
    "helsingør": ("helsingør", "helsingor", "elsinore"),
    "slagelse": ("slagelse",),
    "holbæk": ("holbæk", "holbaek"),
    "køge": ("køge", "koge", "koege"),
}
_CANONICAL = {alias: city for city, aliases in _ALIASES.items() for alias in aliases}
_COUNTRY = {city: "DK" for city in _ALIASES}


def canonical_city(stated: str) -> str:
    """Fold a stated location to one spelling; unknown places are only trimmed and case-folded."""
    folded = " ".join(normalise_text(stated).casefold().replace(",", " ").split())
    return _CANONICAL.get(folded, folded)


def country_of(stated: str) -> str | None:
    """ISO 3166 region of a known city, or None when we cannot tell (then no mismatch is claimed)."""
    return _COUNTRY.get(canonical_city(stated))


def known_city(stated: str) -> str | None:
    """The listed city a stated location names, or None: free text never leaves as a city."""
    city = canonical_city(stated)
    return city if city in _COUNTRY else None
