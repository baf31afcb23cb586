"""Screening's edge checks: RPC arguments (JSON values) become domain values, or an error naming the field.

The generic checks come from kit.inputs; instruments, sectors, agencies and purposes are checked by the domain
(data files and policy/partners.toml)."""
from __future__ import annotations

import re

from kit.inputs import InvalidInput, actor, after, choice, day, first, id_checks, optional_choice, optional_day, text

__all__ = ["InvalidInput", "actor", "after", "answers", "choice", "day", "first", "optional_choice",
           "optional_day", "optional_record_id", "pairs", "record_id", "text"]

_IDS = {"screening_id": "scr", "referral_id": "ref", "joint_inspection_id": "jin", "venue_id": "ven"}
record_id, optional_record_id = id_checks(_IDS)
TALK_STATES = ("not_offered", "offered", "accepted", "declined", "held")
AGE_BANDS = ("under_18", "18_24", "25_34", "35_49", "50_plus", "unknown")
GENDERS = ("female", "male", "other", "unknown")
_CODE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
MAX_ANSWERS = 200
MAX_REASON = 2000


def code(value: object, field: str) -> str:
    if not isinstance(value, str) or not _CODE.match(value):
        raise InvalidInput(f"{field} must be a code (lower-case letters, digits, _ . -; at most 64)", field)
    return value


def optional_code(value: object, field: str) -> str | None:
    return None if value is None else code(value, field)


def answers(value: object) -> dict[str, str]:
    """Question id → answer, as a JSON object or a list of {question, answer}; the instrument checks the ids."""
    if isinstance(value, list):
        if any(not isinstance(a, dict) or set(a) != {"question", "answer"} for a in value):
            raise InvalidInput("answers must be a list of {question, answer}", "answers")
        value = {a["question"]: a["answer"] for a in value} if len({a["question"] for a in value}) == len(value) \
            else _fail("answers name a question twice", "answers")
    if not isinstance(value, dict) or not value or len(value) > MAX_ANSWERS:
        raise InvalidInput(f"answers must name 1 to {MAX_ANSWERS} questions", "answers")
    for question, answer in value.items():
        code(question, "answers")
        if not isinstance(answer, str):
            raise InvalidInput("each answer must be yes, no, unknown or declined", "answers", "invalid_answer")
    return dict(value)


def pairs(value: object, field: str = "scope") -> list[dict]:
    if not isinstance(value, list) or not value or len(value) > 30:
        raise InvalidInput(f"{field} must list 1 to 30 {{recipient, purpose}} pairs", field)
    checked = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"recipient", "purpose"}:
            raise InvalidInput(f"each entry of {field} must be {{recipient, purpose}}", field)
        checked.append({"recipient": code(item["recipient"], field), "purpose": code(item["purpose"], field)})
    return checked


def reason(value: object) -> str:
    return text(value, "reason", limit=MAX_REASON)


def _fail(message: str, field: str):
    raise InvalidInput(message, field)
