"""The label rules: which outreach outcomes count as reached and as an identification talk, which events are labels,
one label per (cluster, contact), and how the per-version figures combine."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ad_triage.domain.labels import (
    CONTACT_MADE, OUTCOMES, REACHED_OUTCOMES, TALK_HELD, Label, NotALabelEvent, UnknownOutcome, VersionOutcomes,
    label_from, led_to_identification_talk, merged, outcomes_per_version, reached, version_key,
)

CLUSTER, CONTACT = "cl-3f9a0c1d2e4b5a70", "con-5d6e7f8091a2b3c4"


def contact(outcome="conversation_held", cluster=CLUSTER, version="1.0.0", contact_id=CONTACT) -> dict:
    return {"contactId": contact_id, "channel": "sms", "occurredOn": "2016-06-02", "outcome": outcome,
            "reached": outcome in REACHED_OUTCOMES, "venueId": None, "visitId": None, "taskId": "ot-3f9a0c1d2e4b5a70",
            "clusterId": cluster, "rulesetVersion": version, "followUpId": None, "languageGroup": None,
            "organisation": "cmm", "funding": {"kind": "budget", "id": "cmm-own-budget", "initiative": 3,
                                               "fundCode": "cmm-own-budget"}}


def talk(cluster=CLUSTER, version="1.0.0", contact_id="con-5d6e7f8091a2b3c5") -> dict:
    return {"contactId": contact_id, "venueId": None, "taskId": "ot-3f9a0c1d2e4b5a70", "clusterId": cluster,
            "rulesetVersion": version, "heldOn": "2016-06-10", "organisation": "cmm", "followUpId": None}


@pytest.mark.parametrize("outcome, expected", [
    ("no_answer", False), ("wrong_number", False), ("declined", False),
    ("conversation_held", True), ("information_given", True), ("identification_talk_agreed", True)])
def test_reached_outcomes(outcome, expected):
    assert reached(outcome) is expected


def test_the_reached_outcomes_are_exactly_three():
    assert REACHED_OUTCOMES == {"conversation_held", "information_given", "identification_talk_agreed"}


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_only_an_agreed_talk_is_an_identification_talk_among_contacts(outcome):
    assert led_to_identification_talk(CONTACT_MADE, outcome) is (outcome == "identification_talk_agreed")


def test_a_talk_held_is_an_identification_talk_and_reached():
    label = label_from(TALK_HELD, talk())
    assert label == Label(CLUSTER, "con-5d6e7f8091a2b3c5", "1.0.0", "2016-06-10", None, reached=True,
                          identification_talk=True, attempt=False)


def test_an_unknown_outcome_is_refused_with_its_code():
    with pytest.raises(UnknownOutcome) as refused:
        label_from(CONTACT_MADE, contact(outcome="hugged"))
    assert refused.value.code == "unknown_outcome" and refused.value.field == "outcome"
    with pytest.raises(UnknownOutcome):
        reached("hugged")


def test_other_event_types_are_not_labels():
    with pytest.raises(NotALabelEvent):
        label_from("outreach.visit.recorded", {})


def test_a_contact_at_a_venue_names_no_cluster_and_is_no_label():
    venue = {**contact(cluster=None, version=None), "venueId": "ven-0011223344556677", "taskId": None}
    assert label_from(CONTACT_MADE, venue) is None
    assert label_from(TALK_HELD, talk(cluster=None, version=None)) is None


def test_a_digital_contact_is_a_label_of_its_cluster_for_the_version_that_flagged_it():
    label = label_from(CONTACT_MADE, contact("information_given", version="1.1.0"))
    assert (label.cluster_id, label.contact_id, label.ruleset_version) == (CLUSTER, CONTACT, "1.1.0")
    assert (label.reached, label.identification_talk, label.attempt, label.outcome) == (
        True, False, True, "information_given")
    assert label.label_id == f"{CLUSTER}:{CONTACT}"


def test_a_label_follows_the_outcome_not_the_events_reached_flag():
    data = {**contact("declined"), "reached": True}  # a producer bug must not make a decline count as reached
    assert label_from(CONTACT_MADE, data).reached is False


def test_merging_adds_what_a_later_event_says_about_the_same_contact():
    first = label_from(CONTACT_MADE, contact("conversation_held"))
    later = label_from(TALK_HELD, talk(contact_id=CONTACT, version=None))
    both = merged(first, later)
    assert (both.outcome, both.reached, both.identification_talk, both.attempt, both.ruleset_version) == (
        "conversation_held", True, True, True, "1.0.0")
    assert both.on == "2016-06-02"
    assert merged(None, first) == first and merged(first, first) == first


def test_labels_of_different_contacts_are_not_merged():
    with pytest.raises(ValueError):
        merged(label_from(CONTACT_MADE, contact()), label_from(CONTACT_MADE, contact(contact_id="con-1111111111111111")))


@given(st.lists(st.sampled_from(OUTCOMES), min_size=1, max_size=6))
def test_merging_is_order_independent_for_what_counts(outcomes):
    labels = [label_from(CONTACT_MADE, contact(o)) for o in outcomes]
    forward = backward = None
    for label in labels:
        forward = merged(forward, label)
    for label in reversed(labels):
        backward = merged(backward, label)
    counted = lambda lab: (lab.reached, lab.identification_talk, lab.attempt)  # noqa: E731
    assert counted(forward) == counted(backward) == (
        any(o in REACHED_OUTCOMES for o in outcomes), "identification_talk_agreed" in outcomes, True)


def test_versions_sort_as_numbers():
    assert sorted(["1.10.0", "1.2.0", "1.9.1", "0.9.0"], key=version_key) == ["0.9.0", "1.2.0", "1.9.1", "1.10.0"]


def test_figures_per_version_combine_ads_and_labels():
    flagged = {"1.0.0": 3, "1.1.0": 1}
    labelled = [("1.0.0", "cl-a", True, False, 2), ("1.0.0", "cl-b", False, False, 1),
                ("1.0.0", "cl-gone", True, True, 1),  # its ads were re-linked: no ad shows cl-gone now
                ("1.2.0", "cl-c", True, True, 0)]  # only a talk held, under a version no current ad shows
    pairs = {("1.0.0", "cl-a"), ("1.0.0", "cl-b")}
    assert outcomes_per_version(flagged, labelled, pairs) == [
        VersionOutcomes("1.0.0", flagged_clusters=4, reached_clusters=2, identification_talk_clusters=1, attempts=4),
        VersionOutcomes("1.1.0", 1, 0, 0, 0),
        VersionOutcomes("1.2.0", 1, 1, 1, 0)]


def test_no_flags_no_labels_no_versions():
    assert outcomes_per_version({}, [], set()) == []


@given(st.lists(st.tuples(st.sampled_from(["1.0.0", "1.1.0"]), st.sampled_from(["cl-a", "cl-b", "cl-c"]),
                          st.booleans(), st.booleans(), st.integers(0, 3)),
                unique_by=lambda r: (r[0], r[1])),
       st.sets(st.tuples(st.sampled_from(["1.0.0", "1.1.0"]), st.sampled_from(["cl-a", "cl-b", "cl-c"]))))
def test_reached_and_talks_never_exceed_flagged(labelled, ads_pairs):
    flagged = {}
    for version, _ in ads_pairs:
        flagged[version] = flagged.get(version, 0) + 1
    for row in outcomes_per_version(flagged, labelled, ads_pairs):
        assert row.reached_clusters <= row.flagged_clusters and row.identification_talk_clusters <= row.flagged_clusters
