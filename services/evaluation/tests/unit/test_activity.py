import pytest

from services.evaluation.domain.activity import Increment, increment_for, summarise
from services.evaluation.domain.errors import UnsupportedEvent


def test_submission_counts_for_the_initiative_it_names():
    assert increment_for("grants.application.submitted", {"initiative": 2}) == Increment("applications_submitted", 2)


def test_flagged_ads_count_for_initiative_one():
    assert increment_for("ad_triage.ad.flagged", {"adKey": "x"}) == Increment("ads_flagged", 1)


@pytest.mark.parametrize("event_type, data", [
    ("grants.money.vanished", {"initiative": 1}),
    ("grants.application.submitted", {"initiative": 9}),
    ("grants.application.submitted", {"initiative": True}),
    ("grants.application.submitted", {}),
])
def test_what_cannot_be_counted_is_refused(event_type, data):
    with pytest.raises(UnsupportedEvent):
        increment_for(event_type, data)


def test_summary_lists_every_initiative_for_every_metric():
    summary = summarise([("applications_submitted", 3, 4)])
    assert summary["applications_submitted"] == {1: 0, 2: 0, 3: 4, 4: 0}
    assert summary["ads_flagged"] == {1: 0, 2: 0, 3: 0, 4: 0}
