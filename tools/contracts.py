"""Generated contract files, and the check that keeps them true.

``python -m tools.contracts generate`` writes schemas/asyncapi.json (the topics partners subscribe to, from the event
folders) and schemas/graphql/schema.graphql (the gateway's SDL, from the graphene schema). ``check`` fails when either
file differs from what the code and the event folders say, so CI catches drift.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from kit.contracts import SCHEMAS_DIR, Registry

ASYNCAPI = SCHEMAS_DIR / "asyncapi.json"
SDL = SCHEMAS_DIR / "graphql" / "schema.graphql"


def asyncapi(registry: Registry) -> dict:
    channels: dict[str, dict] = {}
    operations: dict[str, dict] = {}
    messages: dict[str, dict] = {}
    for contract in sorted(registry.events.values(), key=lambda c: c.type):
        channel = channels.setdefault(contract.topic, {
            "address": contract.topic, "description": _channel_description(contract), "messages": {}})
        name = contract.type.replace(".", "_")
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
        messages[name] = {
            "name": contract.type, "title": contract.type, "summary": contract.description,
            "contentType": "application/cloudevents+json",
            "headers": {"$ref": "envelope/cloudevents-1.0.json"},
            "payload": {"$ref": f"events/{contract.type}/v{contract.current}.json"},
            "x-owner": contract.owner, "x-consumers": list(contract.consumers),
        }
        operations.setdefault(f"publish_{contract.topic.replace('.', '_')}", {
            "action": "send", "channel": {"$ref": f"#/channels/{contract.topic}"},
            "summary": f"{contract.owner} publishes to {contract.topic} through its transactional outbox."})
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "actionplan events", "version": "1.0.0",
                 "description": "Events of the platform for the 2015 amendment to the Danish action plan against "
                                "human trafficking. Each message is a CloudEvents 1.0 envelope; data carries no "
                                "personal identifier in plain text. Topic names get the deployment's "
                                "KAFKA_TOPIC_PREFIX in front. Poison messages go to deadletter.<service> with "
                                "dlq.original.topic/partition/offset and dlq.error headers."},
        "defaultContentType": "application/json",
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(operations.items())),
        "components": {"messages": messages},
    }


def _channel_description(contract) -> str:
    if contract.topic.startswith("partner."):
        agency = contract.topic.split(".")[1]
        return (f"Referrals to the partner agency `{agency}`, published by the {contract.owner} service. Each shared "
                "referral carries only the fields policy/partners.toml allows this agency for the referral's purpose; "
                "a revocation means: delete what you received about that referral. Kafka key = the referral id. "
                "How to subscribe and what each field means: docs/partners.md.")
    return f"Facts published by the {contract.owner} service; Kafka key = the event's subject."


def sdl() -> str:
    from gateway.schema import build_schema
    return str(build_schema()).strip() + "\n"


def render() -> dict[Path, str]:
    return {ASYNCAPI: json.dumps(asyncapi(Registry()), indent=2, ensure_ascii=False) + "\n", SDL: sdl()}


def main(argv: list[str]) -> int:
    if argv not in (["generate"], ["check"]):
        print("usage: python -m tools.contracts generate|check", file=sys.stderr)
        return 2
    stale = []
    for path, text in render().items():
        if argv == ["generate"]:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        elif not path.exists() or path.read_text() != text:
            stale.append(str(path.relative_to(SCHEMAS_DIR.parent)))
    if stale:
        print("out of date (run `python -m tools.contracts generate` and review the diff): " + ", ".join(stale),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
