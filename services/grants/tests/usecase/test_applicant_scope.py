"""An applicant organisation reaches only its own organisation, applications and grants (the access policy's
own_organisation scope, applied by the commands and queries): another organisation's answer as not found."""
import pytest

from services.grants.commands.applications import ApplicationCommands
from services.grants.commands.organisations import OrganisationCommands
from services.grants.domain.errors import UnknownApplication, UnknownGrant, UnknownOrganisation
from services.grants.queries import GrantsQueries
from services.grants.tests.usecase.conftest import CLOCK, NGO, OFFICER, draft_arguments

OTHER = "DK-CVR-13703701"


@pytest.fixture
def other(store, plan):
    OrganisationCommands(store, plan, CLOCK).register(org_id=OTHER, name="Other NGO", roles=["applicant"])
    return OTHER


def as_org(store, plan, org):
    return ApplicationCommands(store, plan, CLOCK, organisation=org), GrantsQueries(store, plan, organisation=org)


def test_an_applicant_sees_only_its_own(store, plan, applications, queries, other, awarded):
    own = awarded  # a grant: ``grant`` answers only for awarded applications
    commands, mine = as_org(store, plan, NGO)
    _, theirs = as_org(store, plan, other)

    assert [a["id"] for a in mine.applications()] == [own]
    assert mine.application(own)["id"] == own and mine.grant(own) is not None
    assert mine.organisation(NGO)["applications"][0]["id"] == own
    assert [o["id"] for o in mine.organisations()] == [NGO]

    assert theirs.applications() == [] and theirs.applications(applicant_id=NGO) == []
    assert theirs.application(own) is None and theirs.grant(own) is None
    assert theirs.assessment_notes(own) == []
    with pytest.raises(UnknownOrganisation) as foreign:
        theirs.organisation(NGO)
    with pytest.raises(UnknownOrganisation) as missing:
        theirs.organisation("DK-CVR-12469136")
    assert foreign.value.code == missing.value.code
    with pytest.raises(UnknownGrant):
        theirs.attribute(own)
    assert {a["id"] for a in queries.applications()} == {own}  # a grant officer sees all


def test_an_applicant_drafts_and_submits_only_for_itself(store, plan, applications, other):
    commands, _ = as_org(store, plan, NGO)
    drafted = commands.draft(**draft_arguments())
    assert drafted["applicant_id"] == NGO
    assert commands.submit(application_id=drafted["id"], actor=OFFICER)["state"] == "submitted"

    foreign, _ = as_org(store, plan, other)
    with pytest.raises(UnknownOrganisation) as refused:
        foreign.draft(**draft_arguments())  # with NGO as applicant
    assert refused.value.details["field"] == "applicant"
    officers = applications.draft(**draft_arguments())["id"]
    with pytest.raises(UnknownApplication) as hidden:
        foreign.submit(application_id=officers, actor=OFFICER)
    with pytest.raises(UnknownApplication) as unknown:
        foreign.submit(application_id="app-" + "0" * 32, actor=OFFICER)
    assert str(hidden.value).replace(officers, "") == str(unknown.value).replace("app-" + "0" * 32, "")
    assert store.db.applications.find_one({"_id": officers})["state"] == "draft"


def test_a_scoped_request_record_never_answers_another_organisation(store, plan, applications, other):
    app_id = applications.draft(**draft_arguments())["id"]
    applications.submit(application_id=app_id, actor=OFFICER, request_id="officer-submit-1")
    foreign, _ = as_org(store, plan, other)
    with pytest.raises(Exception) as refused:  # the officer's request id, replayed by another organisation
        foreign.submit(application_id=app_id, actor=OFFICER, request_id="officer-submit-1")
    assert getattr(refused.value, "code", None) in ("request_id_reused", "unknown_application")
