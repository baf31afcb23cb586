"""Domain objects ↔ MongoDB documents. A screening's answers and an override's reason are encrypted here, bound to
their record and field (kit.fieldcrypt), so a ciphertext cannot be moved to another record or field."""
from __future__ import annotations

import json

ANSWERS, REASON = "answers", "reason"


def seal_answers(screening_id: str, answers: dict, seal) -> str:
    return seal(json.dumps(answers, sort_keys=True), f"screening/{screening_id}", ANSWERS)


def answers(doc: dict, unseal) -> dict:
    return json.loads(unseal(doc["answers"], f"screening/{doc['_id']}", ANSWERS))


def seal_reason(override_id: str, reason: str, seal) -> str:
    return seal(reason, f"override/{override_id}", REASON)


def reason(doc: dict, unseal) -> str:
    return unseal(doc["reason"], f"override/{doc['_id']}", REASON)


def scoring(result) -> dict:
    return {"outcome": result.outcome, "rule": result.rule, "explanation": list(result.explanation),
            "dimensions": dict(result.dimensions), "methods_of_control": list(result.methods_of_control),
            "fired": [{"indicator": f.indicator, "dimension": f.dimension, "strength": f.strength,
                       "questions": list(f.questions), "methods_of_control": list(f.methods_of_control)}
                      for f in result.fired]}


def pairs(scope) -> list[dict]:
    return [{"recipient": p.recipient, "purpose": p.purpose} for p in sorted(scope, key=lambda p: (p.recipient,
                                                                                                  p.purpose))]
