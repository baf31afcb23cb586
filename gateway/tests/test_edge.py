"""The gateway's own rules, without any service: query limits, money scalar, caller identity."""
import pytest
from graphql import GraphQLError, parse, validate

from gateway.app import actor_of
from gateway.limits import MAX_ALIASES, QueryLimits
from gateway.scalars import Ore, dkk
from gateway.schema import build_schema

SCHEMA = build_schema().graphql_schema


def errors(query: str) -> list[str]:
    return [e.message for e in validate(SCHEMA, parse(query), [QueryLimits])]


def test_ordinary_queries_pass_the_limits():
    assert errors("{ actionPlan { initiatives { number period { start } milestones { code } } } }") == []


def test_realistic_nested_queries_and_fragments_pass():
    assert errors("{ organisation(orgId: \"x\") { applications { history { actor } } } }") == []
    assert errors("query { actionPlan { ...A } } fragment A on ActionPlan { initiatives { fundings { period "
                  "{ start } } } }") == []


def test_too_deep_queries_are_refused_before_execution(monkeypatch):
    monkeypatch.setattr("gateway.limits.MAX_DEPTH", 4)
    found = errors("{ actionPlan { initiatives { fundings { region { name } } } } }")
    assert found == ["query depth 5 exceeds the limit of 4"]


def test_depth_limit_counts_through_fragments(monkeypatch):
    monkeypatch.setattr("gateway.limits.MAX_DEPTH", 2)
    found = errors("query { actionPlan { ...A } } fragment A on ActionPlan { initiatives { number } }")
    assert found == ["query depth 3 exceeds the limit of 2"]


def test_alias_flooding_is_refused():
    query = "{ " + " ".join(f"a{i}: actionPlan {{ title }}" for i in range(MAX_ALIASES + 1)) + " }"
    assert errors(query) == [f"query uses {MAX_ALIASES + 1} aliases; the limit is {MAX_ALIASES}"]


@pytest.mark.parametrize("value, expected", [(350000000, 350000000), ("100", 100), (-5, -5)])
def test_ore_accepts_integers(value, expected):
    assert Ore.parse_value(value) == expected


@pytest.mark.parametrize("value", [12.5, "12.5", True, None, 2 ** 60])
def test_ore_refuses_anything_fractional_or_not_a_number(value):
    with pytest.raises(GraphQLError):
        Ore.parse_value(value)


def test_dkk_is_exact():
    assert str(dkk(350000000)) == "3500000" and str(dkk(12345)) == "123.45" and dkk(None) is None


@pytest.mark.parametrize("header, actor", [("officer-7f3a", "officer-7f3a"), ("", "unidentified"),
                                           ("Jane Doe <jane@x.dk>", "unidentified"), ("x" * 65, "unidentified")])
def test_actor_header_is_accepted_only_when_it_looks_like_a_pseudonymous_id(header, actor):
    assert actor_of({"x-actor": header}) == actor
