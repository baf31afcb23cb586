"""A venue where outreach meets people: its kind, municipality and region, and the ad clusters linked to it.

The label (what staff call the place) and the address are sensitive: a private address is personal data. Both are
encrypted at rest by the codec, and neither ever leaves in an event, a log line or an error message; the domain
keeps the label only so a view for an authorised reader can show it. The address is not part of the domain model
at all: the rules never need it.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import date

from .errors import InvalidVenue, UnknownCluster
from .geography import Geography
from .reference import code

MAX_LABEL = 200
MAX_LINKED_CLUSTERS = 200
CLUSTER_ID = re.compile(r"^cl-[0-9a-f]{16}$")
VENUE_ID = re.compile(r"^ven-[0-9a-f]{16}$")


def new_venue_id() -> str:
    # random, never derived from the place or the person who lives there
    return "ven-" + secrets.token_hex(8)


@dataclass(frozen=True)
class Venue:
    venue_id: str
    kind: str
    label: str
    municipality: str  # three-digit code
    region: str  # region id, derived from the municipality
    organisation: str  # who registered it
    registered_on: date
    linked_clusters: tuple[str, ...] = ()

    def with_cluster(self, cluster_id: object) -> "Venue":
        """Link an ad cluster; linking one twice changes nothing (a retried command or redelivery)."""
        checked = check_cluster_id(cluster_id)
        if checked in self.linked_clusters:
            return self
        if len(self.linked_clusters) >= MAX_LINKED_CLUSTERS:
            raise InvalidVenue(f"venue {self.venue_id} already has {MAX_LINKED_CLUSTERS} linked clusters",
                               "cluster_id")
        return replace(self, linked_clusters=(*self.linked_clusters, checked))


def check_cluster_id(cluster_id: object, field: str = "cluster_id") -> str:
    if not isinstance(cluster_id, str) or not CLUSTER_ID.match(cluster_id):
        raise UnknownCluster(f"{field} must be an ad triage cluster id (cl- and 16 hex digits)", field)
    return cluster_id


def check_label(label: object) -> str:
    if not isinstance(label, str) or not label.strip():
        raise InvalidVenue("label must be a non-empty text", "label")
    if len(label) > MAX_LABEL:
        raise InvalidVenue(f"label must be at most {MAX_LABEL} characters", "label")
    return label.strip()


def new_venue(venue_id: str, kind: object, label: object, municipality: object, organisation: str,
              registered_on: date, geography: Geography | None = None) -> Venue:
    if not isinstance(venue_id, str) or not VENUE_ID.match(venue_id):
        raise InvalidVenue("venue_id must be ven- and 16 hex digits", "venue_id")
    place = (geography or Geography.load()).municipality(municipality)
    return Venue(venue_id, code("venueKinds", kind, "kind"), check_label(label), place.code, place.region,
                 organisation, registered_on)
