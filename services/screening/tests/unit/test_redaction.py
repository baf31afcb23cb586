"""Redaction to each agency's allow-list, and the partner policy's refusal of a bad file."""
from __future__ import annotations

import copy
import tomllib

import pytest
from hypothesis import given, strategies as st

from services.screening.domain.errors import InvalidPartnerPolicy, PurposeNotAllowedForAgency, UnknownAgency
from services.screening.domain.partners import DEFAULT_PATH, PAYLOAD_FIELDS, load_policy, parse_policy
from services.screening.domain.redaction import allowed_paths, redact

POLICY = load_policy()
AGENCY_PURPOSES = sorted((a.id, p) for a in POLICY.agencies.values() for p in a.purposes)
values = st.one_of(st.none(), st.booleans(), st.integers(), st.text(alphabet="abcxyz", max_size=5),
                   st.lists(st.dictionaries(st.sampled_from(["id", "strength"]), st.text(alphabet="abc", max_size=3)), max_size=2))
# Extra paths the payload might grow: never in any allow-list, so always cut.
fields = st.sampled_from(sorted(PAYLOAD_FIELDS | {"person.name", "phone", "workplace.address"}))


def _nest(flat):
    nested = {}
    for path, value in flat.items():
        node = nested
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def _leaves(node, prefix=""):
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


@given(st.dictionaries(fields, values), st.sampled_from(AGENCY_PURPOSES))
def test_redaction_keeps_exactly_the_allowed_paths(flat, agency_purpose):
    agency, purpose = agency_purpose
    payload = _nest(flat)
    before = copy.deepcopy(payload)
    allowed = POLICY.always | POLICY.agency(agency).purposes[purpose]
    out = redact(payload, agency, purpose, POLICY)
    assert set(_leaves(out)) == set(flat) & allowed
    assert {} not in [out.get(k) for k in ("screening", "workplace", "person")]  # an emptied section is dropped
    assert payload == before  # input untouched
    for path in set(flat) & allowed:
        node = out
        for part in path.split("."):
            node = node[part]
        assert node == flat[path]


def test_shipped_choices():
    assert allowed_paths("police", "criminal_investigation", POLICY).isdisjoint(
        {"person.languageGroup", "person.ageBand", "person.gender"})
    assert allowed_paths("cmm", "initial_identification", POLICY) == PAYLOAD_FIELDS
    assert "screening.indicators" not in allowed_paths("skat", "tax_inspection", POLICY)
    assert POLICY.always == {"referralId", "subjectRef", "agency", "purpose", "state", "requestedAt",
                             "acknowledgeBy", "basis"}
    assert not ({"immigration_enforcement"} & POLICY.override_purposes)


@pytest.mark.parametrize("purpose", sorted(POLICY.purposes) + ["immigration_enforcement"])
def test_immigration_receives_nothing(purpose):
    assert POLICY.agency("immigration").purposes == {}
    with pytest.raises(PurposeNotAllowedForAgency):
        redact({"referralId": "rf-1", "subjectRef": "sr-1"}, "immigration", purpose, POLICY)


def test_unknown_agency_and_nested_leaf_not_a_section():
    with pytest.raises(UnknownAgency):
        redact({}, "nobody", "labour_inspection", POLICY)
    out = redact({"screening": "not a section", "workplace": {"sector": {"deep": 1}}}, "wea", "labour_inspection",
                 POLICY)
    assert out == {"workplace": {"sector": {"deep": 1}}}  # a leaf is kept whole


def _document():
    return tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))


def _with(change):
    document = _document()
    change(document)
    return document


@pytest.mark.parametrize("change, problem", [
    (lambda d: d["agencies"]["wea"]["purposes"]["labour_inspection"]["fields"].append("workplace.address"),
     "unknown field path 'workplace.address'"),
    (lambda d: d["always"].append("person.cpr"), "unknown field path 'person.cpr'"),
    (lambda d: d["agencies"]["skat"].update(topic="partner.tax.referrals"), "partner.skat.referrals"),
    (lambda d: d["overrides"]["purposes"].append("immigration_enforcement"),
     "'immigration_enforcement' is not a purpose of any agency"),
    (lambda d: d["consent"]["purposes"].append("deportation"), "'deportation' is not a purpose of any agency"),
    (lambda d: d["agencies"]["cmm"].update(purpose={}), "unknown key 'purpose'"),
    (lambda d: d["always"].remove("subjectRef"), "must include 'subjectRef'"),
    (lambda d: d["overrides"].update(min_reason_length=0), "min_reason_length"),
    (lambda d: d["overrides"].update(roles=[]), "overrides.roles"),
    (lambda d: d["consent"].update(legal_bases=["Oral consent"]), "not a code"),
    (lambda d: d["agencies"]["police"]["purposes"]["criminal_investigation"].update(extra=[]), "exactly one key"),
    (lambda d: d.update(agencies={}), "agencies"),
])
def test_policy_refuses_a_bad_file(change, problem):
    parse_policy(_document())  # the shipped file itself is fine
    with pytest.raises(InvalidPartnerPolicy, match=problem.replace(".", r"\.").replace("(", r"\(")):
        parse_policy(_with(change))


def test_load_policy_refuses_bad_toml_and_caches(tmp_path):
    broken = tmp_path / "partners.toml"
    broken.write_text("agencies = [", encoding="utf-8")
    with pytest.raises(InvalidPartnerPolicy, match="not valid TOML"):
        load_policy(broken)
    with pytest.raises(InvalidPartnerPolicy, match="cannot read"):
        load_policy(tmp_path / "missing.toml")
    assert load_policy() is load_policy(DEFAULT_PATH)
