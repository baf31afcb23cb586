"""Contracts are files: the checked-in AsyncAPI and GraphQL SDL must say what the code says."""
import json

from kit.contracts import default_registry
from tools.contracts import ASYNCAPI, SDL, render


def test_checked_in_contract_files_match_the_code():
    for path, text in render().items():
        assert path.exists(), f"{path} is missing: run `python -m tools.contracts generate`"
        assert path.read_text() == text, f"{path} is out of date: run `python -m tools.contracts generate`"


def test_asyncapi_lists_every_event_on_its_topic():
    document = json.loads(ASYNCAPI.read_text())
    for contract in default_registry().events.values():
        channel = document["channels"][contract.topic]
        assert contract.type.replace(".", "_") in channel["messages"]


def test_sdl_exposes_the_action_plan_query():
    assert "actionPlan: ActionPlan!" in SDL.read_text()
