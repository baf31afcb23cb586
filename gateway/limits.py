"""What one GraphQL request may ask for, checked right after parsing and before graphql-core's own validation.

* ``body_too_large``: the HTTP body is larger than GRAPHQL_MAX_BODY_BYTES (checked while it is read);
* ``too_many_tokens``: the query has more lexical tokens than GRAPHQL_MAX_TOKENS (graphql-core stops parsing there);
* ``query_too_deep``: fields nested deeper than GRAPHQL_MAX_DEPTH, counted through fragments;
* ``query_too_complex``: more fields than GRAPHQL_MAX_COST once every fragment spread is expanded;
* ``too_many_aliases``: more aliases than GRAPHQL_MAX_ALIASES once every fragment spread is expanded (an alias
  inside a fragment spread ten times counts ten times);
* ``list_too_large``: a page argument (``limit``, ``first``, ``last``) above GRAPHQL_MAX_LIST_SIZE;
* ``syntax_error``: the query does not parse.

Each fragment is measured once (memoised) and its figures reused at every spread, so the analysis is linear in the
size of the document even when a few hundred bytes of nested fragments expand to millions of fields: such a query
is refused in well under a millisecond instead of blocking the event loop while it is walked. Introspection fields
(``__schema``, ``__type``) are not counted: they are switched off in production and GraphiQL's own schema query is
deep by nature.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from graphql import (DocumentNode, FieldNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLError,
                     InlineFragmentNode, IntValueNode, OperationDefinitionNode, VariableNode, parse)
from graphql.error import GraphQLSyntaxError

from kit.settings import Settings

LIST_ARGUMENTS = ("limit", "first", "last")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'')
_PUNCTUATOR = re.compile(r"^(?:[!$&()\[\]{}:=@|]|\.\.\.|<EOF>|Name|String|Int|Float)$")


@dataclass(frozen=True)
class Limits:
    max_depth: int = 10
    max_cost: int = 1000
    max_aliases: int = 20
    max_tokens: int = 4000
    max_list: int = 500
    max_body_bytes: int = 131072

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        return cls(max_depth=settings.graphql_max_depth, max_cost=settings.graphql_max_cost,
                   max_aliases=settings.graphql_max_aliases, max_tokens=settings.graphql_max_tokens,
                   max_list=settings.graphql_max_list, max_body_bytes=settings.graphql_max_body_bytes)


class LimitExceeded(GraphQLError):
    """A request over one of the limits; ``extensions.code`` names which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, extensions={"code": code})
        self.code = code


@dataclass(frozen=True)
class Measure:
    depth: int
    cost: int
    aliases: int


_ZERO = Measure(0, 0, 0)


class _Analysis:
    def __init__(self, document: DocumentNode, limits: Limits, variables: dict | None) -> None:
        self.limits = limits
        self.variables = variables if isinstance(variables, dict) else {}
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.memo: dict[str, Measure] = {}
        self.in_progress: set[str] = set()

    def fragment(self, name: str) -> Measure:
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.in_progress:
            return _ZERO  # unknown or cyclic spreads are refused by graphql-core's validation right after
        self.in_progress.add(name)
        try:
            measure = self.selections(definition.selection_set, 0)
        finally:
            self.in_progress.discard(name)
        self.memo[name] = measure
        return measure

    def selections(self, selection_set, level: int) -> Measure:
        """Depth below ``selection_set``, fields and aliases in it; ``level`` only bounds the walk (a selection
        nested past the depth limit is not walked further: the query is refused anyway)."""
        if selection_set is None:
            return _ZERO
        depth = cost = aliases = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                self.list_arguments(selection)
                child = (self.selections(selection.selection_set, level + 1)
                         if level <= self.limits.max_depth else Measure(1, 0, 0))
                depth = max(depth, 1 + child.depth)
                cost += 1 + child.cost
                aliases += (1 if selection.alias is not None else 0) + child.aliases
            elif isinstance(selection, FragmentSpreadNode):
                child = self.fragment(selection.name.value)
                depth, cost, aliases = max(depth, child.depth), cost + child.cost, aliases + child.aliases
            elif isinstance(selection, InlineFragmentNode):
                child = self.selections(selection.selection_set, level)
                depth, cost, aliases = max(depth, child.depth), cost + child.cost, aliases + child.aliases
        return Measure(depth, cost, aliases)

    def list_arguments(self, field: FieldNode) -> None:
        for argument in field.arguments or ():
            if argument.name.value not in LIST_ARGUMENTS:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                size = int(value.value)
            elif isinstance(value, VariableNode) and isinstance(self.variables.get(value.name.value), int):
                size = self.variables[value.name.value]
            else:
                continue
            if size > self.limits.max_list:
                raise LimitExceeded("list_too_large", f"{argument.name.value} may ask for at most "
                                                      f"{self.limits.max_list} items")


def measure(document: DocumentNode, limits: Limits = Limits(), variables: dict | None = None) -> Measure:
    """The largest depth and the total cost and aliases of the document's operations, fragments expanded."""
    analysis = _Analysis(document, limits, variables)
    depth = cost = aliases = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            found = analysis.selections(definition.selection_set, 0)
            depth, cost, aliases = max(depth, found.depth), cost + found.cost, aliases + found.aliases
    return Measure(depth, cost, aliases)


def check(document: DocumentNode, limits: Limits = Limits(), variables: dict | None = None) -> Measure:
    """Raise LimitExceeded when the document is over a limit; otherwise return its measure."""
    found = measure(document, limits, variables)
    if found.depth > limits.max_depth:
        raise LimitExceeded("query_too_deep", f"the query nests fields deeper than the limit of {limits.max_depth}")
    if found.aliases > limits.max_aliases:
        raise LimitExceeded("too_many_aliases", f"the query uses more aliases than the limit of "
                                                f"{limits.max_aliases} (fragments counted at every spread)")
    if found.cost > limits.max_cost:
        raise LimitExceeded("query_too_complex", f"the query selects more fields than the limit of "
                                                 f"{limits.max_cost} (fragments counted at every spread)")
    return found


def parse_within(query: str, limits: Limits = Limits(), variables: dict | None = None) -> DocumentNode:
    """Parse with the token limit, then check the other limits. Errors carry ``extensions.code``; a syntax error's
    message is graphql-core's description without the source excerpt (which may hold literal values)."""
    try:
        document = parse(query, max_tokens=limits.max_tokens)
    except RecursionError:  # nesting so deep the parser runs out of stack, within the token limit
        raise LimitExceeded("query_too_deep", f"the query nests deeper than the limit of {limits.max_depth}") from None
    except GraphQLSyntaxError as exc:
        if "Document contains more than" in exc.message:
            raise LimitExceeded("too_many_tokens", f"the query has more than {limits.max_tokens} tokens") from None
        if "nested too deeply" in exc.message:
            raise LimitExceeded("query_too_deep", f"the query nests deeper than the limit of {limits.max_depth}") from None
        raise GraphQLError(_syntax_message(exc), extensions={"code": "syntax_error"},
                           source=None, positions=None) from None
    check(document, limits, variables)
    return document


def _syntax_message(exc: GraphQLSyntaxError) -> str:
    """graphql-core: 'Syntax Error: Unexpected Name "x".' or 'Syntax Error: Unterminated string.' - the token it
    quotes can be a literal from the query, so only the kind of problem and its place are kept."""
    description = _QUOTED.sub(lambda m: m.group(0) if _PUNCTUATOR.match(m.group(1) or m.group(2) or "") else "a value",
                              exc.message.removeprefix("Syntax Error: "))
    where = f" at line {exc.locations[0].line}, column {exc.locations[0].column}" if exc.locations else ""
    return f"Syntax Error: {description.rstrip('.')}{where}."
