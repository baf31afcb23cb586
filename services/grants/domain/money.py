"""Money in integer øre. No float ever enters the money path.

Accepted input is either an ``int`` of øre or a text amount in DKK. Text is read in one of two unambiguous forms:

* plain:  ``1250``, ``1250.5``, ``1250.50``          ('.' is the decimal point, at most two decimals)
* Danish: ``1.250,50``, ``1250,50``, ``1.250.000``    (',' is the decimal point, '.' groups thousands)

``1.250`` is refused: in Danish it means 1250 kr, in the plain form 1.25 kr, and a factor of a thousand is too
costly to guess. Three or more decimals (``1.005``, ``1,005``) are refused as fractional øre for the same reason.
"""
from __future__ import annotations

import re

from .errors import FloatAmount, FractionalOre, InvalidAmount

# the storage layer keeps øre as a BSON int64; anything larger could not be stored exactly
MAX_ORE = 2**63 - 1

_PLAIN = re.compile(r"(?P<kr>[0-9]+)(?:\.(?P<ore>[0-9]+))?")
_DANISH = re.compile(r"(?P<kr>[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,(?P<ore>[0-9]+))?")


def parse_ore(value: object, *, field: str = "amount", allow_zero: bool = False) -> int:
    """Return ``value`` as a whole number of øre, or raise an ``InvalidAmount`` naming ``field`` and the value."""
    if isinstance(value, bool):  # bool is an int subclass: True must not become 1 øre
        raise InvalidAmount(f"{field}: a boolean is not an amount, got {value!r}", field=field)
    if isinstance(value, float):
        raise FloatAmount(f"{field}: floats are not accepted for money (got {value!r}); "
                          f"pass integer øre or a decimal string in DKK", field=field)
    if isinstance(value, int):
        ore = value
    elif isinstance(value, str):
        ore = _parse_text(value, field)
    else:
        raise InvalidAmount(f"{field}: expected integer øre or a DKK string, got {type(value).__name__}",
                            field=field)
    return check_ore(ore, field=field, allow_zero=allow_zero)


def check_ore(ore: int, *, field: str = "amount", allow_zero: bool = False) -> int:
    if isinstance(ore, bool) or not isinstance(ore, int):
        raise InvalidAmount(f"{field}: expected integer øre, got {ore!r}", field=field)
    if ore < 0:
        raise InvalidAmount(f"{field}: must not be negative, got {ore} øre", field=field)
    if ore == 0 and not allow_zero:
        raise InvalidAmount(f"{field}: must be greater than zero", field=field)
    if ore > MAX_ORE:
        raise InvalidAmount(f"{field}: {ore} øre is larger than can be stored", field=field)
    return ore


def _parse_text(text: str, field: str) -> int:
    raw = text.strip()
    if raw.startswith("-"):
        raise InvalidAmount(f"{field}: must not be negative, got {text!r}", field=field)
    if "," in raw:
        match = _DANISH.fullmatch(raw)
    elif raw.count(".") == 1 and re.fullmatch(r"[0-9]+\.[0-9]{3}", raw):
        raise FractionalOre(f"{field}: {text!r} has three digits after '.', which is either fractional øre or a "
                            f"Danish thousands separator; write '{raw.replace('.', '')}' or "
                            f"'{raw},00' for kroner, or use at most two decimals", field=field)
    else:
        match = _PLAIN.fullmatch(raw) or (_DANISH.fullmatch(raw) if raw.count(".") > 1 else None)
    if match is None:
        raise InvalidAmount(f"{field}: {text!r} is not an amount in DKK (examples: '1250.50', '1.250,50')",
                            field=field)
    kroner = int(match["kr"].replace(".", ""))
    ore_text = match["ore"] or ""
    if len(ore_text) > 2:
        raise FractionalOre(f"{field}: {text!r} has more than two decimals; the smallest unit is 1 øre",
                            field=field)
    return kroner * 100 + int(ore_text.ljust(2, "0") or "0")


def format_dkk(ore: int, *, danish: bool = False) -> str:
    """Display text for an amount: ``125050`` gives ``1250.50`` or, Danish, ``1.250,50``. Integer arithmetic only."""
    if isinstance(ore, bool) or not isinstance(ore, int):
        raise InvalidAmount(f"amount: expected integer øre, got {ore!r}", field="amount")
    sign = "-" if ore < 0 else ""
    kroner, rest = divmod(abs(ore), 100)
    if danish:
        return f"{sign}{kroner:,}".replace(",", ".") + f",{rest:02d}"
    return f"{sign}{kroner}.{rest:02d}"
