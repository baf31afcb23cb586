"""Which rule set scores: the one published last (kept in the database), else AD_TRIAGE_RULESET_VERSION, else the
newest file in rules/. Rule sets are repository files, so a version is only ever loaded, never uploaded."""
from __future__ import annotations

import os
from functools import lru_cache

from services.ad_triage.domain.ruleset import RULES_DIR, RuleSet, RuleSetInvalid, ruleset_version

ENV = "AD_TRIAGE_RULESET_VERSION"


class UnknownRuleSet(ValueError):
    code = "unknown_ruleset"

    def __init__(self, version: object) -> None:
        super().__init__(f"no rule set {version!r}; available: {', '.join(available())}")
        self.field = "version"


def _sort_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def available() -> list[str]:
    versions = [p.stem[len("ruleset-"):] for p in RULES_DIR.glob("ruleset-*.json")]
    return sorted(versions, key=_sort_key)


@lru_cache(maxsize=None)
def load(version: str) -> RuleSet:
    if not isinstance(version, str) or version not in available():
        raise UnknownRuleSet(version)
    try:
        return ruleset_version(version)
    except RuleSetInvalid:
        raise  # a broken file in the repository is a deployment fault, not the caller's


def configured_default() -> str:
    """The start-up default; a wrong AD_TRIAGE_RULESET_VERSION stops the service with a message naming it."""
    chosen = os.environ.get(ENV) or available()[-1]
    if chosen not in available():
        raise RuntimeError(f"{ENV}={chosen!r} names no file in {RULES_DIR}; available: {', '.join(available())}")
    return chosen
