import json

import pytest

from kit.contracts import ContractError, Registry, default_registry
from kit.envelope import decode, encode, new_event

TRACEPARENT = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"


def test_every_contract_has_a_valid_example_and_a_changelog():
    registry = default_registry()
    assert registry.events, "no event contracts found"
    for contract in registry.events.values():
        assert (contract.folder / "CHANGELOG.md").read_text().strip()
        examples = sorted((contract.folder / "examples").glob("v*.json"))
        assert examples, f"{contract.type} has no example"
        for example in examples:
            version = int(example.name.split("-")[0][1:])
            contract.validate(json.loads(example.read_text()), version)


def test_new_versions_do_not_break_old_consumers():
    # an old consumer relies on every field its version requires, with its type: a newer version must keep them
    for contract in default_registry().events.values():
        versions = sorted(contract.validators)
        for old, new in zip(versions, versions[1:]):
            old_schema, new_schema = contract.validators[old].schema, contract.validators[new].schema
            missing = set(old_schema.get("required", ())) - set(new_schema.get("required", ()))
            assert not missing, f"{contract.type} v{new} drops required fields {missing}"
            for name in old_schema.get("required", ()):
                assert new_schema["properties"][name].get("type") == old_schema["properties"][name].get("type")


def _example(event_type: str) -> dict:
    contract = default_registry().contract(event_type)
    return json.loads((contract.folder / "examples" / "v1-example.json").read_text())


def test_envelope_round_trip_carries_trace_context():
    data = _example("grants.application.submitted")
    envelope = new_event("grants.application.submitted", "grants", data["applicationId"], data,
                         traceparent=TRACEPARENT)
    assert envelope["specversion"] == "1.0" and envelope["traceparent"] == TRACEPARENT
    assert envelope["dataschema"] == "urn:actionplan:schemas:events:grants.application.submitted:v1"
    assert decode(encode(envelope)) == envelope


def test_publishing_invalid_data_is_refused_with_the_field():
    data = {**_example("grants.award.committed"), "amountOre": 12.5}
    with pytest.raises(ContractError, match="amountOre"):
        new_event("grants.award.committed", "grants", "digital-outreach-pool", data)


def test_unknown_event_type_is_refused():
    with pytest.raises(ContractError, match="no contract"):
        new_event("grants.money.vanished", "grants", "x", {})


@pytest.mark.parametrize("raw, reason", [
    (b"not json", "not JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"specversion": "1.0"}', "envelope does not match"),
    (None, "no value"),
])
def test_consumed_poison_is_refused_with_a_reason(raw, reason):
    with pytest.raises(ContractError, match=reason):
        decode(raw)


def test_registry_rejects_a_schema_whose_id_does_not_match(tmp_path):
    root = tmp_path / "schemas"
    (root / "envelope").mkdir(parents=True)
    (root / "envelope" / "cloudevents-1.0.json").write_text(json.dumps({"type": "object"}))
    folder = root / "events" / "x.y.happened"
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text(json.dumps({"type": "x.y.happened", "topic": "x", "owner": "x", "current": 1,
                                                  "description": "d"}))
    (folder / "v1.json").write_text(json.dumps({"$id": "urn:wrong", "type": "object"}))
    with pytest.raises(ContractError, match=r"\$id must be"):
        Registry(root)
