"""Rule sets: versioned data files of indicators, validated and compiled once at load.

Weights and thresholds are kept as integer thousandths so sums are exact and a score never depends on float
summation order. Every problem in a file is reported at once, naming the indicator.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import UnknownRuleSet
from .features import FEATURES

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
DEFAULT_VERSION = "1.0.0"
PRIORITIES = ("high", "medium", "low")  # "none" is below "low"
STATUSES = frozenset({"validated", "non-predictor", "hypothesis"})
KINDS = frozenset({"pattern", "feature"})
_VERSION = re.compile(r"\d+\.\d+\.\d+")
_LANGUAGE = re.compile(r"[a-z]{2}|\*")
_COMMON = ("id", "kind", "language", "rationale", "source", "status")


class RuleSetInvalid(ValueError):
    def __init__(self, origin: str, problems: list[str]):
        super().__init__(f"rule set {origin}: " + "; ".join(problems))
        self.origin, self.problems = origin, list(problems)


@dataclass(frozen=True)
class Indicator:
    id: str
    kind: str
    language: str
    weight_milli: int
    rationale: str
    source: str
    status: str
    pattern: re.Pattern[str] | None = None
    feature: str | None = None
    threshold_milli: int | None = None

    @property
    def weight(self) -> float:
        return self.weight_milli / 1000

    def applies_to(self, language: str) -> bool:
        return self.language in ("*", language)


@dataclass(frozen=True)
class RuleSet:
    version: str
    description: str
    indicators: tuple[Indicator, ...]
    priority_milli: tuple[tuple[str, int], ...]  # ("high", 6000), ("medium", ...), ("low", ...)
    flag_at: str


def _milli(value: Any, where: str, problems: list[str]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(f"{where}: missing or not a number")
        return None
    milli = round(value * 1000)
    if abs(milli - value * 1000) > 1e-6:
        problems.append(f"{where}: at most three decimals are allowed")
        return None
    return milli


def _indicator(raw: Any, where: str, problems: list[str]) -> Indicator | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be an object")
        return None
    where = f"{where} ({raw.get('id', 'no id')!s})"
    start = len(problems)
    for name in _COMMON:
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            problems.append(f"{where}: missing or invalid field {name!r}")
    kind, pattern, feature, threshold = raw.get("kind"), None, None, None
    if isinstance(kind, str) and kind not in KINDS:
        problems.append(f"{where}: unknown kind {kind!r} (allowed: feature, pattern)")
    if raw.get("status") not in STATUSES and isinstance(raw.get("status"), str):
        problems.append(f"{where}: unknown status {raw['status']!r} (allowed: {', '.join(sorted(STATUSES))})")
    if isinstance(raw.get("language"), str) and not _LANGUAGE.fullmatch(raw["language"]):
        problems.append(f"{where}: language must be an ISO 639-1 code or '*'")
    weight = _milli(raw.get("weight"), f"{where}.weight", problems)
    if kind == "pattern":
        try:
            pattern = re.compile(raw["pattern"], re.IGNORECASE)
        except KeyError:
            problems.append(f"{where}: pattern indicator needs a 'pattern'")
        except (re.error, TypeError) as err:
            problems.append(f"{where}: bad regex ({err})")
    elif kind == "feature":
        feature = raw.get("feature")
        if feature not in FEATURES:
            problems.append(f"{where}: unknown feature {feature!r} (known: {', '.join(sorted(FEATURES))})")
        threshold = _milli(raw.get("threshold"), f"{where}.threshold", problems)
    if len(problems) > start or weight is None:
        return None
    return Indicator(raw["id"], kind, raw["language"], weight, raw["rationale"], raw["source"], raw["status"],
                     pattern, feature, threshold)


def parse_ruleset(data: Any, origin: str = "<data>") -> RuleSet:
    if not isinstance(data, dict):
        raise RuleSetInvalid(origin, ["top level must be an object"])
    problems: list[str] = []
    version, description = data.get("version"), data.get("description")
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        problems.append("version: must be MAJOR.MINOR.PATCH")
    if not isinstance(description, str) or not description.strip():
        problems.append("description: missing")
    raw_priorities = data.get("priorities") if isinstance(data.get("priorities"), dict) else {}
    levels = [(name, _milli(raw_priorities.get(name), f"priorities.{name}", problems)) for name in PRIORITIES]
    cut_offs = [milli for _, milli in levels if milli is not None]
    if len(cut_offs) == 3 and not cut_offs[0] > cut_offs[1] > cut_offs[2]:
        problems.append("priorities: need high > medium > low")
    if data.get("flagAt") not in PRIORITIES:
        problems.append(f"flagAt: must be one of {', '.join(PRIORITIES)}")
    raw_indicators = data.get("indicators")
    if not isinstance(raw_indicators, list) or not raw_indicators:
        problems.append("indicators: must be a non-empty list")
        raw_indicators = []
    indicators = [_indicator(raw, f"indicators[{i}]", problems) for i, raw in enumerate(raw_indicators)]
    ids = [ind.id for ind in indicators if ind]
    problems += [f"indicators: duplicate id {dup!r}" for dup in sorted({i for i in ids if ids.count(i) > 1})]
    if problems:
        raise RuleSetInvalid(origin, problems)
    return RuleSet(version, description, tuple(i for i in indicators if i),
                   tuple((name, milli) for name, milli in levels if milli is not None), data["flagAt"])


def load_ruleset(path: Path | str) -> RuleSet:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RuleSetInvalid(str(path), ["file not found"]) from None
    except json.JSONDecodeError as err:
        raise RuleSetInvalid(str(path), [f"malformed JSON at line {err.lineno}: {err.msg}"]) from None
    ruleset = parse_ruleset(data, str(path))
    if path.name.startswith("ruleset-") and path.name != f"ruleset-{ruleset.version}.json":
        raise RuleSetInvalid(str(path), [f"version {ruleset.version} does not match the file name"])
    return ruleset


def ruleset_version(version: str = DEFAULT_VERSION) -> RuleSet:
    """Load a shipped rule set by version, e.g. "1.1.0"."""
    return load_ruleset(RULES_DIR / f"ruleset-{version}.json")


# -- the shipped versions: rule sets are repository files, so a version is only ever loaded, never uploaded ------------
def available() -> list[str]:
    versions = [p.stem[len("ruleset-"):] for p in RULES_DIR.glob("ruleset-*.json")]
    return sorted(versions, key=lambda v: tuple(int(part) for part in v.split(".")))


@lru_cache(maxsize=None)
def load(version: str) -> RuleSet:
    """A shipped rule set by version; an unknown version is the caller's mistake, a broken file a deployment fault."""
    if not isinstance(version, str) or version not in available():
        raise UnknownRuleSet(version, available())
    return ruleset_version(version)


@lru_cache(maxsize=None)
def _rationales(version: str) -> dict[str, str]:
    return {i.id: i.rationale for i in load(version).indicators}


def rationale(version: str, indicator_id: str) -> str:
    """Why an indicator of a shipped version counts. Stored scores name the indicator and version only: the text is
    the rule set's, the same for every ad it fired on (and shipped versions are never removed)."""
    return _rationales(version).get(indicator_id, "")


def default_version(chosen: str | None, setting: str) -> str:
    """The start-up default: ``chosen`` (the value of ``setting``), else the newest file; a wrong value stops the
    service with a message naming the setting."""
    chosen = chosen or available()[-1]
    if chosen not in available():
        raise RuntimeError(f"{setting}={chosen!r} names no file in {RULES_DIR}; available: {', '.join(available())}")
    return chosen
