"""GraphQL types used by several parts of the schema."""
from __future__ import annotations

from datetime import date

import graphene


def day(value):
    """RPC answers carry ISO date strings; graphene's Date wants date objects."""
    return date.fromisoformat(value) if isinstance(value, str) else value


class Period(graphene.ObjectType):
    start = graphene.Date(description="First day, or null when none is known.")
    end = graphene.Date(description="Last day, or null when none is known.")

    @staticmethod
    def resolve_start(parent, _info):
        return day(parent.get("start"))

    @staticmethod
    def resolve_end(parent, _info):
        return day(parent.get("end"))
