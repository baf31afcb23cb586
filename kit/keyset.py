"""Keyset pages: a list ordered on an index of exactly its order, paged by an opaque cursor that holds the sort key
of the page's last item, so a page costs the same however many records come before it (no skip).

``order`` is a tuple of (field, pymongo direction); ``after_filter`` selects what comes strictly after a cursor.
A cursor this API did not give out is refused with ``invalid_cursor`` on ``after``."""
from __future__ import annotations

import base64
import json

from pymongo import DESCENDING

from kit.inputs import InvalidInput


def encode_cursor(doc: dict, order) -> str:
    return base64.urlsafe_b64encode(json.dumps([doc.get(f) for f, _ in order]).encode()).decode()


def decode_cursor(cursor: str, order) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
    except Exception:
        values = None
    if not isinstance(values, list) or len(values) != len(order) or any(
            not isinstance(v, (str, int, float)) or isinstance(v, bool) for v in values):
        raise InvalidInput("after is not a cursor this API gave out", "after", "invalid_cursor")
    return values


def after_filter(values: list, order) -> dict:
    """Documents strictly after ``values`` in ``order``: (a > x) or (a = x and b > y) ..., by each direction."""
    alternatives = []
    for i, (field, direction) in enumerate(order):
        clause = {f: values[j] for j, (f, _) in enumerate(order[:i])}
        clause[field] = {"$lt" if direction == DESCENDING else "$gt": values[i]}
        alternatives.append(clause)
    return {"$or": alternatives}
