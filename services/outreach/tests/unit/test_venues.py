"""Venues: kind and municipality checked, the region derived, clusters linked once."""
from datetime import date

import pytest

from services.outreach.domain.errors import InvalidVenue, UnknownCluster, UnknownCode, UnknownMunicipality
from services.outreach.domain.venues import MAX_LINKED_CLUSTERS, new_venue, new_venue_id

ON = date(2017, 5, 2)


def venue(**change):
    args = dict(venue_id="ven-" + "a" * 16, kind="brothel", label="Club Nord", municipality="370",
                organisation="provest", registered_on=ON)
    args.update(change)
    return new_venue(**args)


def test_the_region_follows_the_municipality():
    made = venue()
    assert (made.municipality, made.region, made.kind, made.linked_clusters) == ("370", "sjaelland", "brothel", ())


@pytest.mark.parametrize("change,error,field", [
    (dict(kind="sauna"), UnknownCode, "kind"), (dict(municipality="999"), UnknownMunicipality, "municipality"),
    (dict(municipality=101), UnknownMunicipality, "municipality"), (dict(label="  "), InvalidVenue, "label"),
    (dict(label="x" * 201), InvalidVenue, "label"), (dict(venue_id="ven-1"), InvalidVenue, "venue_id")])
def test_bad_venues_are_refused_with_the_field(change, error, field):
    with pytest.raises(error) as caught:
        venue(**change)
    assert caught.value.field == field and "Club" not in caught.value.message


def test_linking_a_cluster_twice_links_it_once():
    linked = venue().with_cluster("cl-" + "1" * 16)
    assert linked.with_cluster("cl-" + "1" * 16) == linked and linked.linked_clusters == ("cl-" + "1" * 16,)
    with pytest.raises(UnknownCluster):
        linked.with_cluster("cluster-1")


def test_a_venue_links_a_bounded_number_of_clusters():
    v = venue()
    for i in range(MAX_LINKED_CLUSTERS):
        v = v.with_cluster(f"cl-{i:016x}")
    with pytest.raises(InvalidVenue):
        v.with_cluster("cl-" + "f" * 16)


def test_venue_ids_are_random_and_well_formed():
    ids = {new_venue_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) == 20 and i.startswith("ven-") for i in ids)
