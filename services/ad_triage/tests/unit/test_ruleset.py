import copy
import json
import re

import pytest

from services.ad_triage.domain.ruleset import RULES_DIR, RuleSetInvalid, load_ruleset, parse_ruleset, ruleset_version

SHIPPED = sorted(RULES_DIR.glob("ruleset-*.json"))


def data(version: str = "1.0.0") -> dict:
    return json.loads((RULES_DIR / f"ruleset-{version}.json").read_text(encoding="utf-8"))


def problems(mutate) -> list[str]:
    raw = copy.deepcopy(data())
    mutate(raw)
    with pytest.raises(RuleSetInvalid) as caught:
        parse_ruleset(raw, "test")
    return caught.value.problems


def test_two_versions_are_shipped_and_load():
    assert [path.name for path in SHIPPED] == ["ruleset-1.0.0.json", "ruleset-1.1.0.json"]
    assert ruleset_version().version == "1.0.0" and ruleset_version("1.1.0").version == "1.1.0"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_rule_sets_follow_the_reference(path):
    ruleset = load_ruleset(path)
    by_status: dict[str, list] = {}
    for indicator in ruleset.indicators:
        by_status.setdefault(indicator.status, []).append(indicator)
    # Non-predictors from the NIJ-funded study must never raise a score by default.
    assert all(i.weight_milli == 0 for i in by_status["non-predictor"])
    assert all(i.weight_milli > 0 for i in by_status["validated"])
    assert all(i.source.startswith("hypothesis") for i in by_status["hypothesis"])
    assert {i.language for i in ruleset.indicators} >= {"da", "en", "*"}
    ids = {i.id for i in ruleset.indicators}
    assert {"movement-language-da", "stated-age-under-23", "client-screening-en", "obscured-phone",
            "explicit-ethnicity-da", "under-18-language-en", "cluster-size", "area-code-mismatch"} <= ids


def test_versions_differ_only_in_some_weights():
    old, new = ruleset_version("1.0.0"), ruleset_version("1.1.0")
    changed = {a.id for a, b in zip(old.indicators, new.indicators) if a.weight_milli != b.weight_milli}
    assert changed == {"contact-city-spread", "cluster-size", "area-code-mismatch", "obfuscated-handle"}
    assert [a.id for a in old.indicators] == [b.id for b in new.indicators]


def test_regexes_are_compiled_at_load_case_insensitively():
    patterns = [i.pattern for i in ruleset_version().indicators if i.kind == "pattern"]
    assert patterns and all(isinstance(p, re.Pattern) and p.flags & re.IGNORECASE for p in patterns)
    features = [i for i in ruleset_version().indicators if i.kind == "feature"]
    assert all(i.pattern is None and i.threshold_milli is not None for i in features)


@pytest.mark.parametrize("mutate,expected", [
    (lambda r: r["indicators"][0].update(kind="magic"),
     "indicators[0] (trust-professional-en): unknown kind 'magic' (allowed: feature, pattern)"),
    (lambda r: r["indicators"][0].update(pattern="(unclosed"),
     "indicators[0] (trust-professional-en): bad regex (missing ), unterminated subpattern at position 0)"),
    (lambda r: r["indicators"][1].pop("rationale"),
     "indicators[1] (trust-professional-da): missing or invalid field 'rationale'"),
    (lambda r: r["indicators"][6].update(feature="vibes"),
     "indicators[6] (obscured-phone): unknown feature 'vibes' (known: area_code_mismatch, cluster_size, "
     "contact_city_spread, obfuscated_handle, obfuscated_phone)"),
    (lambda r: r["indicators"][6].pop("threshold"), "indicators[6] (obscured-phone).threshold: missing or not a number"),
    (lambda r: r["indicators"][0].update(weight="2"), "indicators[0] (trust-professional-en).weight: missing or not a number"),
    (lambda r: r["indicators"][0].update(weight=1.0005),
     "indicators[0] (trust-professional-en).weight: at most three decimals are allowed"),
    (lambda r: r["indicators"][0].update(language="english"),
     "indicators[0] (trust-professional-en): language must be an ISO 639-1 code or '*'"),
    (lambda r: r["indicators"][0].update(status="maybe"),
     "indicators[0] (trust-professional-en): unknown status 'maybe' (allowed: hypothesis, non-predictor, validated)"),
    (lambda r: r["indicators"][1].update(id="trust-professional-en"),
     "indicators: duplicate id 'trust-professional-en'"),
    (lambda r: r.update(version="1.0"), "version: must be MAJOR.MINOR.PATCH"),
    (lambda r: r["priorities"].update(low=9), "priorities: need high > medium > low"),
    (lambda r: r.update(flagAt="urgent"), "flagAt: must be one of high, medium, low"),
    (lambda r: r.update(indicators=[]), "indicators: must be a non-empty list"),
])
def test_invalid_rule_sets_name_the_problem(mutate, expected):
    assert expected in problems(mutate)


def test_all_problems_are_reported_together():
    found = problems(lambda r: (r.update(version="x"), r["indicators"][0].update(kind="magic")))
    assert len(found) == 2


def test_file_errors_are_specific(tmp_path):
    with pytest.raises(RuleSetInvalid, match="file not found"):
        load_ruleset(tmp_path / "ruleset-9.9.9.json")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(RuleSetInvalid, match="malformed JSON at line 1"):
        load_ruleset(tmp_path / "broken.json")
    (tmp_path / "ruleset-2.0.0.json").write_text(json.dumps(data()), encoding="utf-8")
    with pytest.raises(RuleSetInvalid, match="version 1.0.0 does not match the file name"):
        load_ruleset(tmp_path / "ruleset-2.0.0.json")
