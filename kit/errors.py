"""Errors that cross the RPC boundary with a stable code the gateway can map to a GraphQL error.

Domain errors stay framework-free: any exception with a ``code`` attribute is translated at the service edge.
"""
from __future__ import annotations

import functools
import json


class CommandRejected(Exception):
    """The caller's command or query was refused for a reason it can act on (bad input, a broken rule)."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(code, message, field)
        self.code, self.message, self.field = code, message, field

    def __str__(self) -> str:
        # nameko sends str(exc) as the remote error's value: make it machine-readable
        return json.dumps({"code": self.code, "message": self.message, "field": self.field})

    @classmethod
    def parse(cls, value: str) -> "CommandRejected | None":
        try:
            body = json.loads(value)
            return cls(body["code"], body["message"], body.get("field"))
        except (TypeError, ValueError, KeyError):
            return None


def translate_errors(method):
    """Turn domain errors (anything with a ``code``) into CommandRejected at the RPC edge."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except CommandRejected:
            raise
        except TypeError as exc:
            # wrong or missing keyword arguments from a caller are bad input, not a server fault
            if _is_call_signature_error(exc, (method.__code__, wrapper.__code__)):
                raise CommandRejected("invalid_arguments", str(exc)) from None
            raise
        except Exception as exc:
            code = getattr(exc, "code", None)
            if isinstance(code, str):
                details = getattr(exc, "details", None)
                field = getattr(exc, "field", None) or (details.get("field") if isinstance(details, dict) else None)
                raise CommandRejected(code, getattr(exc, "message", None) or str(exc), field) from None
            raise
    return wrapper


def _is_call_signature_error(exc: TypeError, edge_codes) -> bool:
    """True when the TypeError came from calling with the wrong arguments at the edge (the innermost frame is the
    wrapper or the RPC method forwarding its keywords), not from a bug deeper down."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code in edge_codes and "argument" in str(exc)
