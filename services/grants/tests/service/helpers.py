"""GraphQL steps a grant officer takes, shared by the grants service tests."""
from __future__ import annotations

import uuid

from tests.support.graphql import ok
from tests.support.tokens import bearer

UNIVERSITY = "DK-CVR-11234569"
NGO = "DK-CVR-10000009"
PRO_VEST = "DK-CVR-13703701"
OFFICER = bearer("grant_officer", "ministry", subject="officer-test")  # a ministry grant officer's token

APPLICATION_FIELDS = "id state requestedOre noteCount history { fromState toState actor }"


def rid() -> str:
    """A new requestId argument: the gateway requires the client's idempotency key on every command."""
    return f'requestId: "{uuid.uuid4().hex}"'


def register(platform, org_id: str, name: str, roles: str) -> dict:
    return ok(platform.graphql(f'mutation {{ registerOrganisation(orgId: "{org_id}", name: "{name}", '
                               f'roles: [{roles}], {rid()}) {{ id roles }} }}', headers=OFFICER),
              "registerOrganisation")


def draft(platform, pool: str, applicant: str, partner: str | None, requested_ore: int,
          start: str = "2016-03-01", end: str = "2017-12-31") -> dict:
    return platform.graphql(
        f"""mutation($partner: String, $ore: Ore!) {{ draftGrantApplication(poolCode: "{pool}",
            applicantId: "{applicant}", knowledgePartnerId: $partner, title: "Outreach", description: "Methods",
            requestedOre: $ore, start: "{start}", end: "{end}", {rid()}) {{ {APPLICATION_FIELDS} }} }}""",
        {"partner": partner, "ore": requested_ore}, headers=OFFICER)


def step(platform, mutation: str, args: str) -> dict:
    return platform.graphql(f"mutation {{ {mutation}({args}, {rid()}) {{ {APPLICATION_FIELDS} }} }}", headers=OFFICER)


def to_assessment(platform, app_id: str) -> None:
    ok(step(platform, "submitGrantApplication", f'applicationId: "{app_id}"'), "submitGrantApplication")
    ok(step(platform, "moveGrantApplication", f'applicationId: "{app_id}", move: START_ASSESSMENT'),
       "moveGrantApplication")


def award(platform, app_id: str, ore: int, on: str = "2016-04-01") -> dict:
    return step(platform, "awardGrantApplication", f'applicationId: "{app_id}", amountOre: {ore}, awardDate: "{on}"')


def pools(platform) -> dict:
    result = ok(platform.graphql("{ pools { code allocatedOre committedOre disbursedOre remainingOre grantCount } }"),
                "pools")
    return {p["code"]: p for p in result}
