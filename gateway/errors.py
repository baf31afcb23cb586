"""GraphQL errors with a stable ``extensions.code`` the front-ends can act on.

Codes of failures outside the service's own rules:

* ``service_unavailable``: the request was not run (no instance of the service, or no broker); try again later;
* ``outcome_unknown`` (commands): the command was sent but no answer came in time; it may or may not have run.
  Retry it with the same ``requestId``: the service answers a retry with the first run's answer, and runs it if the
  first attempt never ran (an abandoned request is refused once its deadline has passed, so it cannot run later);
* ``service_timeout`` (queries): no answer in time; ask again;
* ``internal_error``: a fault inside a service or the gateway (logged; no internals are told). The error carries
  ``extensions.reference``, the id the gateway's log gives with the fault's type and place.

Client-caused errors always carry a code too: ``syntax_error``, ``validation_failed``, ``introspection_disabled``,
``invalid_variables`` and the limits of ``gateway.limits``. ``format_error`` is the edge's only error formatter and
its only error log: messages are cleared of the request's values (literals of the query, variables) before they
are answered or logged, and the log records codes, paths, types and code locations, never messages of exceptions,
variables or values.
"""
from __future__ import annotations

import contextvars
import logging
import re
import traceback
import uuid

from graphql import GraphQLError, Lexer, Source, TokenKind, print_ast
from graphql.error import GraphQLSyntaxError
from nameko.exceptions import RemoteError

from gateway.rpc import NoAnswer, ServiceUnavailable
from kit.errors import CommandRejected
from kit.principal import ANONYMOUS

log = logging.getLogger("actionplan.gateway")

OUTCOME_UNKNOWN = ("the command may or may not have run (no answer in time); retry it with the same requestId, "
                   "which runs it at most once")


def to_graphql(exc: Exception, *, command: bool = False) -> GraphQLError:
    if isinstance(exc, CommandRejected):
        return GraphQLError(exc.message, extensions={"code": exc.code, "field": exc.field})
    if isinstance(exc, ServiceUnavailable):
        return GraphQLError(str(exc), extensions={"code": "service_unavailable", "service": exc.service})
    if isinstance(exc, NoAnswer):
        if command:
            return GraphQLError(OUTCOME_UNKNOWN, extensions={"code": "outcome_unknown", "service": exc.service})
        return GraphQLError(f"{exc}; ask again", extensions={"code": "service_timeout", "service": exc.service})
    return GraphQLError("internal error", extensions={"code": "internal_error"})


def principal_of(info):
    """The caller the edge authenticated; a context without one (never the gateway's own) is anonymous, the least
    privileged principal, so a missing principal can only lose rights."""
    return info.context.get("principal") or ANONYMOUS


async def call(info, service: str, method: str, *, command: bool = False, **kwargs):
    """RPC from a resolver; every failure becomes a GraphQL error with a code, never a stack trace.

    ``command``: the call changes state (it carries the client's ``request_id``), so a call without an answer is
    reported as ``outcome_unknown`` rather than as a timeout to simply ask again."""
    try:
        return await info.context["rpc"].call(service, method, principal=principal_of(info), **kwargs)
    except (CommandRejected, ServiceUnavailable, NoAnswer) as exc:
        if isinstance(exc, NoAnswer):
            log.warning("%s.%s: %s", service, method, exc)
        raise to_graphql(exc, command=command) from None
    except RemoteError as exc:
        # a fault inside a service: log its type for operators, tell the client no internals
        log.error("%s.%s failed remotely: %s", service, method, exc.exc_type)
        raise to_graphql(exc) from None


# -- the edge's error formatter -------------------------------------------------------------------------------------
errors_log = logging.getLogger("actionplan.gateway.errors")

# ariadne logs every error with its message and traceback (values included); it gets this logger, which drops all
# of it: format_error below logs instead
class _Silent(logging.LoggerAdapter):
    """Drops every record (a disabled logger is re-enabled by uvicorn's logging set-up, and one without handlers
    would print through logging's last-resort handler)."""

    def log(self, level, msg, *args, **kwargs) -> None:
        return None

    def isEnabledFor(self, level) -> bool:
        return False


SILENT = _Silent(logging.getLogger("actionplan.gateway.ariadne"), {})

CLIENT_CODES = frozenset({"syntax_error", "validation_failed", "introspection_disabled", "invalid_variables"})
_request_values: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("graphql_request_values",
                                                                                   default=())
_MIN_SCRUB = 3  # shorter values (true, 0, 12) say nothing about anyone and would garble messages


def remember_request(data) -> None:
    """Note the values of this request (its query's literals and its variables' leaves) so that no error message
    repeats them. Called by the edge before each operation, in the task that formats its errors."""
    values: set[str] = set()
    if isinstance(data, dict):
        _leaves(data.get("variables"), values, 0)
        query = data.get("query")
        if isinstance(query, str):
            _literals(query, values)
    _request_values.set(tuple(sorted(values, key=len, reverse=True)))


def _leaves(value, into: set[str], depth: int) -> None:
    if depth > 20 or len(into) > 2000:
        return
    if isinstance(value, dict):
        for item in value.values():
            _leaves(item, into, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _leaves(item, into, depth + 1)
    elif value is not None and not isinstance(value, bool):
        text = str(value)
        if len(text) >= _MIN_SCRUB:
            into.add(text)
            into.add(repr(value))


def _literals(query: str, into: set[str]) -> None:
    try:
        lexer = Lexer(Source(query))
        for _ in range(20000):
            token = lexer.advance()
            if token.kind == TokenKind.EOF:
                break
            if token.kind in (TokenKind.STRING, TokenKind.BLOCK_STRING, TokenKind.INT, TokenKind.FLOAT) and \
                    token.value is not None and len(token.value) >= _MIN_SCRUB:
                into.add(token.value)
                into.add(query[token.start:token.end])
    except GraphQLError:  # a syntax error later in the query: the literals before it are noted
        pass


def scrub(message: str) -> str:
    for value in _request_values.get():
        if value in message:
            message = message.replace(value, "...")
    return message


_VARIABLE = re.compile(r"^Variable '\$([_A-Za-z][_0-9A-Za-z]*)' got invalid value ")
_FOUND = re.compile(r"^(Expected value of type '[^']*'), found ")


def _client_message(error: GraphQLError) -> str:
    """graphql-core's message without the value it quotes (coercion and literal errors repeat the value)."""
    message = error.message
    variable = _VARIABLE.match(message)
    if variable:
        type_ = next((print_ast(node.type) for node in error.nodes or () if hasattr(node, "type")), None)
        expected = f"; expected {type_}" if type_ else ""
        return f"Variable '${variable.group(1)}' got an invalid value{expected}."
    found = _FOUND.match(message)
    if found:
        return f"{found.group(1)}; the value given is not one."
    if " cannot represent " in message and ": " in message:
        return message.split(": ", 1)[0] + "."
    return message


def _code_of(error: GraphQLError) -> str | None:
    code = (error.extensions or {}).get("code")
    if code:
        return str(code)
    original = error.original_error
    if isinstance(error, GraphQLSyntaxError):
        return "syntax_error"
    if _VARIABLE.match(error.message) or error.message.startswith("Variable '$"):
        return "invalid_variables"
    if original is not None and not isinstance(original, GraphQLError):
        return None  # a fault: masked
    return None


def _where(error: GraphQLError) -> str:
    return ".".join(str(part) for part in error.path) if error.path else "-"


def _frames(exc: BaseException) -> str:
    """Where a fault happened: file:line in function, innermost last, without the exception's message or any
    local variable (either can hold personal data)."""
    frames = traceback.extract_tb(exc.__traceback__)[-8:]
    return " < ".join(f"{f.filename.rsplit('/', 2)[-1] if '/' in f.filename else f.filename}:{f.lineno} in {f.name}"
                      for f in reversed(frames)) or "-"


def mark_validation(errors: list[GraphQLError]) -> list[GraphQLError]:
    """Give graphql-core's validation errors their code (they come without one)."""
    for error in errors:
        if not (error.extensions or {}).get("code"):
            code = "introspection_disabled" if "introspection is disabled" in error.message else "validation_failed"
            error.extensions = {**(error.extensions or {}), "code": code}
    return errors


def format_error(error: GraphQLError, debug: bool = False) -> dict:
    """The answer's form of ``error``, and its one line in the gateway's log."""
    code = _code_of(error)
    if code is None:
        reference = uuid.uuid4().hex[:16]
        original = error.original_error if error.original_error is not None else error
        errors_log.error("internal error %s at %s: %s at %s", reference, _where(error), type(original).__name__,
                         _frames(original))
        formatted = {"message": f"internal error (reference {reference})",
                     "extensions": {"code": "internal_error", "reference": reference}}
        if error.path:
            formatted["path"] = list(error.path)
        if error.locations:
            formatted["locations"] = [{"line": l.line, "column": l.column} for l in error.locations]
        return formatted
    formatted = dict(error.formatted)
    message = formatted.get("message", "")
    if code in CLIENT_CODES or "extensions" not in formatted or not (error.extensions or {}).get("code"):
        message = _client_message(error)
    formatted["message"] = scrub(message)
    extensions = {key: value for key, value in (error.extensions or {}).items()
                  if isinstance(value, (str, int, float, bool)) or value is None}
    extensions["code"] = code
    if code == "internal_error" and not extensions.get("reference"):  # a service's fault (to_graphql): its id
        extensions["reference"] = uuid.uuid4().hex[:16]
        message = f"internal error (reference {extensions['reference']})"
        formatted["message"] = message
        errors_log.error("internal error %s at %s: a service failed", extensions["reference"], _where(error))
    formatted["extensions"] = {key: scrub(value) if isinstance(value, str) and key != "code" else value
                               for key, value in extensions.items()}
    errors_log.info("graphql error %s at %s", code, _where(error))
    return formatted
