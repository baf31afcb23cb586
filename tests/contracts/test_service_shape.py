"""Every service has the same rooms, only its storage module touches MongoDB, its RPC methods say what they take,
and what it publishes and consumes is what schemas/ metadata says (ARCHITECTURE.md, "One shape")."""
from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from kit.contracts import default_registry

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"
SERVICES = sorted(p.parent.name for p in SERVICES_DIR.glob("*/service.py"))
FILES = ("queries.py", "views.py", "inputs.py", "storage.py", "codec.py", "contracts.py", "service.py",
         "domain/__init__.py", "domain/errors.py", "domain/events.py", "commands/__init__.py", "tools/__init__.py")
FOLDERS = ("tests/unit", "tests/usecase", "tests/service")


def code_files(service: str):
    """The service's own code: everything but its tests."""
    root = SERVICES_DIR / service
    return [p for p in root.rglob("*.py") if "tests" not in p.relative_to(root).parts]


def test_there_are_services():
    assert {"grants", "ad_triage", "evaluation"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_rooms(service):
    root = SERVICES_DIR / service
    missing = [f for f in FILES if not (root / f).is_file()]
    missing += [f for f in FOLDERS if not any((root / f).glob("test_*.py"))]
    assert not missing, f"services/{service} lacks {missing}"


@pytest.mark.parametrize("service", SERVICES)
def test_only_storage_touches_mongodb(service):
    offenders = []
    for path in code_files(service):
        if path.name == "storage.py":
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n == "pymongo" or n.startswith(("pymongo.", "bson")) for n in names):
                offenders.append(f"{path.relative_to(SERVICES_DIR)}:{node.lineno} imports {names}")
            if isinstance(node, ast.Attribute) and node.attr in ("db", "client") and isinstance(
                    node.value, ast.Attribute) and node.value.attr == "store":
                offenders.append(f"{path.relative_to(SERVICES_DIR)}:{node.lineno} uses store.{node.attr}")
    assert not offenders, "outside storage.py: " + "; ".join(offenders)


def _entrypoints(service_cls):
    for name, member in inspect.getmembers(service_cls, inspect.isfunction):
        for entrypoint in getattr(member, "nameko_entrypoints", ()):
            yield name, member, entrypoint


@pytest.mark.parametrize("service", SERVICES)
def test_rpc_methods_have_explicit_signatures(service):
    service_cls = importlib.import_module(f"services.{service}.service").SERVICE
    loose = [name for name, member, _ in _entrypoints(service_cls)
             if any(p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in inspect.signature(member).parameters.values())]
    assert not loose, f"{service}: RPC methods taking **kwargs or *args: {loose}"


@pytest.mark.parametrize("service", SERVICES)
def test_code_and_schema_metadata_agree_on_events(service):
    registry = default_registry()
    contracts = importlib.import_module(f"services.{service}.contracts")
    assert tuple(sorted(contracts.PRODUCES)) == registry.produced_by(service)
    assert tuple(sorted(contracts.CONSUMES)) == registry.consumed_by(service)
    service_cls = importlib.import_module(f"services.{service}.service").SERVICE
    handled = set()
    for _name, _member, entrypoint in _entrypoints(service_cls):
        handled |= set(getattr(entrypoint, "event_types", ()))
    assert handled == set(contracts.CONSUMES), (
        f"{service} consumes {sorted(handled)} in code but schemas/ metadata says {sorted(contracts.CONSUMES)}")
