"""Every GraphQL type name is declared by one class only: graphene keeps the first class of a name it meets and
silently drops the other's fields (a screening type once lost its fields to ad triage's type of the same name)."""
from __future__ import annotations

import graphene

import gateway.schema  # noqa: F401  (imports every module that declares types)


def _declared(base) -> list[type]:
    found = []
    for cls in base.__subclasses__():
        found.append(cls)
        found.extend(_declared(cls))
    return found


def test_no_two_graphene_classes_share_a_type_name():
    names: dict[str, list[str]] = {}
    for base in (graphene.ObjectType, graphene.InputObjectType, graphene.Enum):
        for cls in _declared(base):
            if cls.__module__.startswith("gateway."):
                name = getattr(cls._meta, "name", cls.__name__)
                names.setdefault(name, []).append(f"{cls.__module__}.{cls.__qualname__}")
    clashes = {name: where for name, where in names.items() if len(set(where)) > 1}
    assert not clashes, clashes
