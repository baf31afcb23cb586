"""The geography file: all 98 municipalities in their regions, and ad cities folded as ad triage hands them over."""
from collections import Counter

import pytest

from services.outreach.domain.errors import UnknownMunicipality, UnknownRegion
from services.outreach.domain.geography import Geography, fold

G = Geography.load()


def test_the_five_regions_carry_their_official_codes():
    assert {r.id: r.code for r in G.regions.values()} == {
        "hovedstaden": "1084", "sjaelland": "1085", "syddanmark": "1083", "midtjylland": "1082",
        "nordjylland": "1081"}


def test_all_98_municipalities_are_listed_in_their_regions():
    assert len(G.municipalities) == 98
    assert Counter(m.region for m in G.municipalities.values()) == {
        "hovedstaden": 29, "sjaelland": 17, "syddanmark": 22, "midtjylland": 19, "nordjylland": 11}


def test_codes_and_names_are_unique_and_codes_are_three_digits():
    codes = [m.code for m in G.municipalities.values()]
    names = [m.name for m in G.municipalities.values()]
    assert len(set(codes)) == len(codes) == len(set(names)) == 98
    assert all(len(c) == 3 and c.isdigit() for c in codes)


@pytest.mark.parametrize("code,name,region", [
    ("101", "København", "hovedstaden"), ("147", "Frederiksberg", "hovedstaden"),
    ("400", "Bornholm", "hovedstaden"), ("265", "Roskilde", "sjaelland"), ("370", "Næstved", "sjaelland"),
    ("461", "Odense", "syddanmark"), ("561", "Esbjerg", "syddanmark"), ("751", "Aarhus", "midtjylland"),
    ("851", "Aalborg", "nordjylland"), ("825", "Læsø", "nordjylland"), ("492", "Ærø", "syddanmark")])
def test_well_known_municipalities(code, name, region):
    assert G.municipality(code).name == name and G.region_of(code) == region


def test_christianso_is_not_a_municipality():
    assert G.place_of("christiansø") is None and "411" not in G.municipalities


def test_no_alias_names_two_municipalities_and_aliases_are_folded_ascii():
    owners: dict[str, set[str]] = {}
    for m in G.municipalities.values():
        for alias in (m.name, *m.aliases):
            owners.setdefault(fold(alias), set()).add(m.code)
        assert all(a == fold(a) and a.isascii() for a in m.aliases), m.code
    assert {a: c for a, c in owners.items() if len(c) > 1} == {}


@pytest.mark.parametrize("city,region", [
    ("odense", "syddanmark"), ("aarhus", "midtjylland"), ("koebenhavn", "hovedstaden"),
    ("kobenhavn", "hovedstaden"), ("copenhagen", "hovedstaden"), ("roskilde", "sjaelland"),
    ("naestved", "sjaelland"), ("aalborg", "nordjylland"), ("esbjerg", "syddanmark"),
    ("helsingoer", "hovedstaden"), ("frederiksberg", "hovedstaden"), ("holbaek", "sjaelland"),
    ("slagelse", "sjaelland"), ("koege", "sjaelland"), ("koge", "sjaelland"), ("arhus", "midtjylland"),
    ("elsinore", "hovedstaden"), ("kbh", "hovedstaden"), ("nykoebing falster", "sjaelland"),
    ("roenne", "hovedstaden")])
def test_folded_ad_cities_map_to_their_region(city, region):
    assert G.place_of(city).region == region


# the spellings ad triage's places.canonical_city hands over in events (it keeps æ/ø/å and case-folds); copied,
# not imported: services do not import each other (import-linter)
AD_TRIAGE_CITIES = ["københavn", "aarhus", "odense", "aalborg", "roskilde", "næstved", "esbjerg", "frederiksberg",
                    "vejle", "randers", "kolding", "horsens", "herning", "helsingør", "slagelse", "holbæk", "køge"]


@pytest.mark.parametrize("city", AD_TRIAGE_CITIES)
def test_every_city_ad_triage_knows_is_found(city):
    assert G.place_of(city) is not None and G.place_of(city) == G.place_of(fold(city))


@pytest.mark.parametrize("stated", ["København", "Kobenhavn", "Koebenhavn", "Copenhagen", "Kbh", "CPH", "Kbh K",
                                    "Århus", "Arhus", "Ålborg", "Alborg", "Næstved", "Nastved", "Helsingør",
                                    "Helsingor", "Holbæk", "Køge", "Koge", "Odense", "Roskilde", "Esbjerg"])
def test_raw_ad_spellings_are_found_too(stated):
    assert G.place_of(stated) is not None, stated


def test_fold_spells_out_danish_letters_and_evens_out_case_dashes_and_spaces():
    assert fold("  Høje-Taastrup ") == "hoeje taastrup"
    assert fold("ÆRØ") == "aeroe" and fold("Århus") == "aarhus" and fold("Nykøbing F.") == "nykoebing f"
    assert fold("Ｋøge") == "koege"  # fullwidth letters fold by NFKC


def test_unknown_or_missing_places_name_no_municipality():
    assert G.place_of("berlin") is None and G.place_of("") is None and G.place_of(None) is None


def test_regions_of_a_set_of_cities_leaves_unknown_places_out():
    assert G.regions_of(["københavn", "odense", "atlantis", None]) == ("hovedstaden", "syddanmark")


def test_unknown_codes_are_refused_with_the_field():
    for bad in ("999", 101, None, "1O1"):
        with pytest.raises(UnknownMunicipality) as caught:
            G.municipality(bad)
        assert caught.value.code == "unknown_municipality" and caught.value.field == "municipality"
    with pytest.raises(UnknownRegion):
        G.region("zealand")
