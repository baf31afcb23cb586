"""Teams, budget lines, coded lists and the data files' provenance."""
import json

import pytest

from services.outreach.domain import reference
from services.outreach.domain.data import DATA
from services.outreach.domain.errors import OutsideRegion, UnknownCode, UnknownTeam

REGIONS = ("hovedstaden", "sjaelland", "syddanmark", "midtjylland", "nordjylland")


def test_every_data_file_states_its_source_and_licence():
    files = [*DATA.glob("*.json"), *(DATA / "concern_rules").glob("*.json")]
    assert len(files) >= 5
    for path in files:
        head = list(json.loads(path.read_text(encoding="utf-8")))[:3]
        assert "source" in head and "licence" in head, path.name


def test_cmm_teams_work_nationwide():
    for team_id in ("cmm-outreach", "cmm-health"):
        team = reference.team(team_id)
        assert team.organisation == "cmm" and all(team.may_work_in(r) for r in REGIONS)


def test_pro_vest_works_in_region_zealand_only():
    team = reference.team("provest-zealand")
    assert team.organisation == "provest" and team.may_work_in("sjaelland")
    assert not any(team.may_work_in(r) for r in REGIONS if r != "sjaelland")
    team.check_works_in("sjaelland")
    with pytest.raises(OutsideRegion) as caught:
        team.check_works_in("hovedstaden")
    assert caught.value.code == "outside_region" and caught.value.field == "venue_id"


def test_an_unknown_team_is_refused():
    for bad in ("nobody", None, 3):
        with pytest.raises(UnknownTeam) as caught:
            reference.team(bad)
        assert caught.value.code == "unknown_team" and caught.value.field == "team_id"


def test_budget_lines_and_the_initiatives_grants_may_fund_outreach_from():
    assert reference.budget_lines()["cmm-own-budget"].organisation == "cmm"
    assert reference.budget_lines()["cmm-own-budget"].initiative == 3
    assert reference.grant_initiatives() == {1, 3}


@pytest.mark.parametrize("kind,expected", [
    ("venueKinds", ("brothel", "massage_clinic", "private_address", "hotel", "online_only")),
    ("identificationTalk", ("none", "offered", "accepted", "held")),
    ("channels", ("sms", "call", "chat", "platform_message")),
    ("reachedOutcomes", ("conversation_held", "information_given", "identification_talk_agreed")),
    ("closeReasons", ("identification_talk_agreed", "unreachable", "not_relevant", "duplicate"))])
def test_coded_lists(kind, expected):
    assert reference.codes(kind) == expected


def test_every_labelled_code_has_danish_and_english_labels_and_codes_are_unique():
    for kind in reference.kinds():
        entries = reference.labelled(kind)
        assert len({e["code"] for e in entries}) == len(entries), kind
        if kind != "reachedOutcomes":
            assert all(e["da"] and e["en"] for e in entries), kind
    assert set(reference.codes("reachedOutcomes")) <= set(reference.codes("outcomes"))
    assert len(reference.codes("languageGroups")) == 19 and len(reference.codes("indicators")) == 12


def test_codes_are_checked_with_the_field_and_the_message_never_echoes_the_value():
    assert reference.code("materials", "condoms", "materials") == "condoms"
    with pytest.raises(UnknownCode) as caught:
        reference.code("materials", "Anna's flat on Istedgade", "materials")
    assert caught.value.field == "materials" and "Istedgade" not in caught.value.message
    with pytest.raises(UnknownCode):
        reference.code_list("materials", ["condoms", "condoms"], "materials")
    with pytest.raises(UnknownCode):
        reference.code_list("materials", "condoms", "materials")
    assert reference.optional_code("screeningOutcomes", None, "screening_outcome") is None
