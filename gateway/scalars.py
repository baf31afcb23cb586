"""Scalars for money: øre are integers beyond GraphQL's 32-bit Int, DKK are exact decimals (strings on the wire)."""
from __future__ import annotations

from decimal import Decimal

import graphene
from graphql import GraphQLError
from graphql.language import IntValueNode, StringValueNode


class Ore(graphene.Scalar):
    """An amount of money in integer øre (1 DKK = 100 øre). Never fractional; up to 2^53 for JSON safety."""

    @staticmethod
    def serialize(value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise GraphQLError(f"Ore must be an integer, got {type(value).__name__}")
        return value

    @staticmethod
    def parse_literal(node, _variables=None):
        if isinstance(node, IntValueNode):
            return Ore.parse_value(int(node.value))
        if isinstance(node, StringValueNode) and node.value.lstrip("-").isdigit():
            return Ore.parse_value(int(node.value))
        raise GraphQLError("Ore must be an integer number of øre, e.g. 350000000 for 3.5 million DKK")

    @staticmethod
    def parse_value(value):
        if isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise GraphQLError(f"Ore must be an integer number of øre, got {value!r}")
        if abs(value) > 2 ** 53:
            raise GraphQLError("Ore is out of range")
        return value


def dkk(ore: int | None) -> Decimal | None:
    return None if ore is None else Decimal(ore) / 100
