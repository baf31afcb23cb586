"""Query limits graphene does not have: nesting depth and alias count, checked before execution."""
from __future__ import annotations

from graphql import FieldNode, GraphQLError, ValidationRule

MAX_DEPTH = 8
MAX_ALIASES = 20


def _depth(node, fragments, seen=()) -> int:
    selection_set = getattr(node, "selection_set", None)
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if selection.kind == "fragment_spread":
            name = selection.name.value
            if name in seen or name not in fragments:
                continue
            deepest = max(deepest, _depth(fragments[name], fragments, seen + (name,)))
        elif isinstance(selection, FieldNode):
            deepest = max(deepest, 1 + _depth(selection, fragments, seen))
        else:
            deepest = max(deepest, _depth(selection, fragments, seen))
    return deepest


class QueryLimits(ValidationRule):
    def enter_document(self, node, *_args):
        fragments = {d.name.value: d for d in node.definitions if d.kind == "fragment_definition"}
        aliases = 0
        for definition in node.definitions:
            if definition.kind != "operation_definition":
                continue
            depth = _depth(definition, fragments)
            if depth > MAX_DEPTH:
                self.report_error(GraphQLError(f"query depth {depth} exceeds the limit of {MAX_DEPTH}",
                                               extensions={"code": "query_too_deep"}))
        for definition in node.definitions:
            aliases += _count_aliases(definition)
        if aliases > MAX_ALIASES:
            self.report_error(GraphQLError(f"query uses {aliases} aliases; the limit is {MAX_ALIASES}",
                                           extensions={"code": "too_many_aliases"}))


def _count_aliases(node) -> int:
    count = 1 if isinstance(node, FieldNode) and node.alias is not None else 0
    selection_set = getattr(node, "selection_set", None)
    for child in (selection_set.selections if selection_set else ()):
        count += _count_aliases(child)
    return count
