"""Scalars for money: øre are integers beyond GraphQL's 32-bit Int, DKK are exact decimals (strings on the wire).

One documented way to give an amount: ``amountOre`` an integer of øre (``Ore``), or ``amountDkk`` a decimal string
of kroner with '.' as the decimal point and at most two decimals (``Dkk``, e.g. ``"1250.50"``). Both are at most
``MAX_ORE`` øre. Each refusal carries ``extensions.code`` (graphql-core keeps a scalar's error, or takes its
extensions over when it wraps it for a variable, so the code reaches the answer):

* ``float_amount``: a floating-point number (``1.5``, ``1e3``) where øre or DKK text is expected;
* ``thousands_separator``: grouped digits (``"1,250.00"``, ``"1.250,50"``, ``"1 250"``);
* ``fractional_ore``: more than two decimals in DKK (``"1.005"``; ``"1.250"`` is refused too: it reads as 1250 kr
  in Danish and as 1.25 kr in English);
* ``amount_too_large``: above ``MAX_ORE``;
* ``invalid_amount``: anything else that is no amount (negative, a string for øre, a number for DKK, empty).
"""
from __future__ import annotations

import re
from decimal import Decimal

import graphene
from graphql import GraphQLError
from graphql.language import FloatValueNode, IntValueNode, StringValueNode

# the largest integer a JSON number carries exactly (2^53 - 1): 90 071 992 547 409.91 DKK
MAX_ORE = 2 ** 53 - 1
MAX_DKK_TEXT = "90071992547409.91"
MAX_STATED = f"at most {MAX_ORE} øre ({MAX_DKK_TEXT} DKK)"

_DKK = re.compile(r"(?P<kr>[0-9]+)(?:\.(?P<ore>[0-9]+))?")
_GROUPED = re.compile(r"[0-9]{1,3}(?:[.,' _\u00a0][0-9]{3})+(?:[.,][0-9]*)?|.*[0-9][,' _\u00a0][0-9].*")


def money_error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


def _in_range(ore: int, what: str) -> int:
    if ore < 0:
        raise money_error(f"{what} must not be negative", "invalid_amount")
    if ore > MAX_ORE:
        raise money_error(f"{what} is above the maximum: {MAX_STATED}", "amount_too_large")
    return ore


class Ore(graphene.Scalar):
    """An amount of money in integer øre (1 DKK = 100 øre), at most 9007199254740991 øre (2^53 - 1, about 90
    trillion DKK). Give it as an integer: no fractions, no strings (DKK text goes in the Dkk fields)."""

    @staticmethod
    def serialize(value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise GraphQLError(f"Ore must be an integer, got {type(value).__name__}")
        return value

    @staticmethod
    def parse_literal(node, _variables=None):
        if isinstance(node, IntValueNode):
            return Ore.parse_value(int(node.value))
        if isinstance(node, FloatValueNode):
            return Ore.parse_value(float(node.value))
        if isinstance(node, StringValueNode):
            return Ore.parse_value(node.value)
        raise money_error("Ore must be an integer number of øre, e.g. 350000000 for 3.5 million DKK",
                          "invalid_amount")

    @staticmethod
    def parse_value(value):
        if isinstance(value, float):
            raise money_error("Ore must be an integer number of øre: floats and fractions of øre are not accepted "
                              "(give 150 for 1.50 DKK, or the DKK text in amountDkk)", "float_amount")
        if isinstance(value, str):
            if _GROUPED.fullmatch(value.strip()):
                raise money_error("Ore must be an integer number of øre without thousands separators; DKK text "
                                  "goes in amountDkk", "thousands_separator")
            raise money_error("Ore must be an integer number of øre, not a string; DKK text goes in amountDkk",
                              "invalid_amount")
        if isinstance(value, bool) or not isinstance(value, int):
            raise money_error("Ore must be an integer number of øre", "invalid_amount")
        if value < -MAX_ORE:
            raise money_error(f"Ore is out of range: {MAX_STATED}", "invalid_amount")
        # a negative amount is the service's to refuse (invalid_amount, naming the field); too large never gets there
        return value if value < 0 else _in_range(value, "Ore")


class Dkk(graphene.Scalar):
    """An amount in Danish kroner as a decimal string: digits, optionally '.' and one or two decimals ("1250",
    "1250.5", "1250.50"); at most "90071992547409.91". No thousands separators, no decimal comma, no numbers."""

    @staticmethod
    def serialize(value):
        if isinstance(value, Decimal):
            return f"{value:.2f}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise GraphQLError(f"Dkk is given as integer øre, got {type(value).__name__}")
        kroner, rest = divmod(value, 100)
        return f"{kroner}.{rest:02d}"

    @staticmethod
    def parse_literal(node, _variables=None):
        if isinstance(node, StringValueNode):
            return Dkk.parse_value(node.value)
        if isinstance(node, FloatValueNode):
            return Dkk.parse_value(float(node.value))
        if isinstance(node, IntValueNode):
            return Dkk.parse_value(int(node.value))
        raise money_error('Dkk must be a decimal string of kroner, e.g. "1250.50"', "invalid_amount")

    @staticmethod
    def parse_value(value):
        """The amount in integer øre."""
        if isinstance(value, float):
            raise money_error('Dkk must be a decimal string, not a floating-point number (e.g. "1250.50")',
                              "float_amount")
        if not isinstance(value, str):
            raise money_error('Dkk must be a decimal string of kroner (e.g. "1250.50"); integer øre go in '
                              'amountOre', "invalid_amount")
        text = value.strip()
        if text.startswith("-"):
            raise money_error("Dkk must not be negative", "invalid_amount")
        match = _DKK.fullmatch(text)
        if match is None:
            if _GROUPED.fullmatch(text) or "," in text:
                raise money_error('Dkk is written without thousands separators and with "." as the decimal '
                                  'point, e.g. "1250000.50"', "thousands_separator")
            raise money_error('Dkk must be a decimal string of kroner, e.g. "1250.50"', "invalid_amount")
        decimals = match["ore"] or ""
        if len(decimals) > 2:
            hint = ('; three digits after "." may be a Danish thousands separator: write kroner without one '
                    '("1250") and at most two decimals ("1.25")' if len(decimals) == 3 and len(match["kr"]) <= 3
                    else "")
            raise money_error(f"Dkk has at most two decimals: the smallest unit is 1 øre{hint}", "fractional_ore")
        return _in_range(int(match["kr"]) * 100 + int(decimals.ljust(2, "0") or "0"), "Dkk")


def dkk(ore: int | None) -> Decimal | None:
    return None if ore is None else Decimal(ore) / 100
