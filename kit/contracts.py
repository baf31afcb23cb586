"""The event contracts in ``schemas/``: one folder per event type with its versions, examples and changelog.

Publishing and consuming both validate against the same files, so code and contract cannot drift unnoticed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"
_FORMATS = FormatChecker()


class ContractError(ValueError):
    """An event does not match its contract. ``problems`` lists each violation with its JSON path."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message + (": " + "; ".join(problems) if problems else ""))
        self.problems = problems or []


def dataschema_uri(event_type: str, version: int) -> str:
    return f"urn:actionplan:schemas:events:{event_type}:v{version}"


@dataclass(frozen=True)
class EventContract:
    type: str
    topic: str
    owner: str
    current: int
    description: str
    consumers: tuple[str, ...]
    folder: Path
    validators: dict[int, Draft202012Validator] = field(repr=False, default_factory=dict)

    def validate(self, data: dict, version: int) -> None:
        validator = self.validators.get(version)
        if validator is None:
            raise ContractError(f"{self.type} has no schema version {version}")
        _check(validator, data, f"{self.type} v{version} data")


def _check(validator: Draft202012Validator, instance, what: str) -> None:
    # the path and the rule that failed, never jsonschema's message: it quotes the offending value, and these
    # problems travel into dead-letter headers and logs, where a value may be a name or a number
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        raise ContractError(f"{what} does not match its schema",
                            [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: fails {e.validator!r}"
                             for e in errors[:10]])


class Registry:
    def __init__(self, root: Path = SCHEMAS_DIR) -> None:
        self.root = root
        self.envelope = Draft202012Validator(
            json.loads((root / "envelope" / "cloudevents-1.0.json").read_text()), format_checker=_FORMATS)
        self.events: dict[str, EventContract] = {}
        for meta_file in sorted((root / "events").glob("*/meta.json")):
            contract = _load_contract(meta_file)
            self.events[contract.type] = contract

    def contract(self, event_type: str) -> EventContract:
        try:
            return self.events[event_type]
        except KeyError:
            raise ContractError(f"no contract for event type {event_type!r} in {self.root / 'events'}") from None

    def produced_by(self, service: str) -> tuple[str, ...]:
        """Event types ``service`` owns (publishes), from the contracts' metadata."""
        return tuple(sorted(t for t, c in self.events.items() if c.owner == service))

    def consumed_by(self, service: str) -> tuple[str, ...]:
        """Event types whose metadata lists ``service`` as a consumer."""
        return tuple(sorted(t for t, c in self.events.items() if service in c.consumers))

    def topics_of(self, event_types) -> tuple[str, ...]:
        """The topics (unprefixed) that carry these event types, each once, in a stable order."""
        return tuple(sorted({self.contract(t).topic for t in event_types}))

    def validate(self, envelope: dict) -> EventContract:
        """Validate an envelope and its data; returns the contract of its type."""
        if not isinstance(envelope, dict):
            raise ContractError("an event must be a JSON object")
        _check(self.envelope, envelope, "envelope")
        contract = self.contract(envelope["type"])
        version = _version_of(envelope["dataschema"], envelope["type"])
        contract.validate(envelope["data"], version)
        return contract


def _version_of(uri: str, event_type: str) -> int:
    prefix = f"urn:actionplan:schemas:events:{event_type}:v"
    if not uri.startswith(prefix):
        raise ContractError(f"dataschema {uri!r} does not belong to type {event_type!r}")
    return int(uri[len(prefix):])


def _load_contract(meta_file: Path) -> EventContract:
    meta = json.loads(meta_file.read_text())
    folder = meta_file.parent
    if meta["type"] != folder.name:
        raise ContractError(f"{meta_file}: type {meta['type']!r} does not match its folder")
    validators = {}
    for schema_file in sorted(folder.glob("v*.json")):
        version = int(schema_file.stem[1:])
        schema = json.loads(schema_file.read_text())
        Draft202012Validator.check_schema(schema)
        if schema.get("$id") != dataschema_uri(meta["type"], version):
            raise ContractError(f"{schema_file}: $id must be {dataschema_uri(meta['type'], version)}")
        validators[version] = Draft202012Validator(schema, format_checker=_FORMATS)
    if meta["current"] not in validators:
        raise ContractError(f"{meta_file}: current version v{meta['current']} has no schema file")
    return EventContract(type=meta["type"], topic=meta["topic"], owner=meta["owner"], current=meta["current"],
                         description=meta["description"], consumers=tuple(meta.get("consumers", ())),
                         folder=folder, validators=validators)


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    return Registry()
