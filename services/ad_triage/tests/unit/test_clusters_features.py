from datetime import datetime, timezone

import pytest

from services.ad_triage.domain.clusters import LinkedAd, summarise_cluster
from services.ad_triage.domain.features import FEATURES, compute_features
from services.ad_triage.domain.places import canonical_city, country_of
from services.ad_triage.domain.records import Contact
from services.ad_triage.domain.stored import to_stored

from .conftest import make_ad, pseudonymise


def linked(n: int, city: str, platform: str, day: int, contacts: tuple[str, ...]) -> LinkedAd:
    return LinkedAd(("p", str(n)), city, platform, datetime(2016, 5, day, tzinfo=timezone.utc),
                    datetime(2016, 5, day + 2, tzinfo=timezone.utc), contacts)


def test_summary_counts_cities_platforms_dates_and_contact_spread():
    summary = summarise_cluster("cl-1", [
        linked(1, "Kbh", "a.example", 3, ("ph-a", "tg-x")),
        linked(2, "Copenhagen", "b.example", 1, ("ph-a",)),
        linked(3, "Århus", "a.example", 9, ("ph-a",)),
        linked(4, "Odense", "a.example", 5, ("ph-b",)),
    ])
    assert summary.ad_count == 4
    assert summary.cities == ("aarhus", "københavn", "odense")  # spelling variants fold to one city
    assert summary.platforms == ("a.example", "b.example")
    assert (summary.first_seen.day, summary.last_seen.day) == (1, 11)
    assert summary.contact_spread == (("ph-a", 2), ("ph-b", 1), ("tg-x", 1))
    assert summary.max_spread(["ph-b", "ph-a"]) == 2 and summary.spread_of("nope") == 0


def test_empty_cluster_is_an_error():
    with pytest.raises(ValueError, match="cl-9: no ads to summarise"):
        summarise_cluster("cl-9", [])


def test_places_fold_spellings_and_know_danish_cities():
    assert canonical_city(" København  K ") == "københavn" and canonical_city("ÅRHUS") == "aarhus"
    assert country_of("Næstved") == "DK" and country_of("Atlantis") is None


def test_features_of_a_lone_ad():
    ad = to_stored(make_ad(contacts=(Contact("phone", "to ni ni ni en to tre fire"),)), pseudonymise)
    assert compute_features(ad) == {"obfuscated_phone": 1.0, "obfuscated_handle": 0.0, "contact_city_spread": 1.0,
                                    "cluster_size": 1.0, "area_code_mismatch": 0.0}
    assert set(compute_features(ad)) == FEATURES


def test_features_use_the_cluster_summary():
    ad = to_stored(make_ad(contacts=(Contact("phone", "+40 729 991 234"), Contact("email", "a (at) b (dot) dk"))),
                   pseudonymise)
    pseudonym = ad.contacts[0].pseudonym
    summary = summarise_cluster("cl", [linked(i, city, "p", 1, (pseudonym,))
                                       for i, city in enumerate(["Odense", "Aarhus", "Esbjerg", "Odense"])])
    features = compute_features(ad, summary)
    assert features["contact_city_spread"] == 3 and features["cluster_size"] == 4
    assert features["area_code_mismatch"] == 1.0  # Romanian number, Danish city
    assert features["obfuscated_handle"] == 1.0 and features["obfuscated_phone"] == 0.0


def test_no_mismatch_claimed_for_unknown_places_or_danish_numbers():
    foreign_unknown = to_stored(make_ad(contacts=(Contact("phone", "+40 729 991 234"),), location="Atlantis"),
                                pseudonymise)
    danish = to_stored(make_ad(contacts=(Contact("phone", "29991234"),), location="Aalborg"), pseudonymise)
    assert compute_features(foreign_unknown)["area_code_mismatch"] == 0.0
    assert compute_features(danish)["area_code_mismatch"] == 0.0
