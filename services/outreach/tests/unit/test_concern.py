"""Concern rules as properties: decay, sum, bands, order-independence, and rule-set versions."""
import json
import math
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings, strategies as st

from services.outreach.domain import concern as c
from services.outreach.domain.errors import InvalidSignal, RulesError

RULES = c.load_rules("1.0.0")
ON = date(2017, 6, 1)

weights = st.floats(0, 100, allow_nan=False)
ages = st.integers(0, 5000)
half_lives = st.floats(0.5, 1000, allow_nan=False)


def signal_strategy():
    coded = {"cluster_linked": ["high", "medium", "low", "none"],
             "screening_outcome": ["no_indicators", "indicators_present", "refer_for_identification"],
             "inspection_note": ["no_findings", "concerns", "serious_concerns"]}
    kinds = st.sampled_from(c.SIGNAL_KINDS)

    def value(kind):
        if kind in coded:
            return st.sampled_from(coded[kind])
        return st.integers(0, 12) if kind == "visit_indicators" else st.integers(1, 5)

    return kinds.flatmap(lambda kind: st.builds(
        c.Signal, st.just(kind), st.text("abcdef0123456789", min_size=4, max_size=8),
        st.dates(ON - timedelta(days=2000), ON), value(kind)))


signals = st.lists(signal_strategy(), max_size=25)


@given(weights, ages, half_lives)
def test_decayed_weight_never_exceeds_the_weight(weight, age, half_life):
    assert 0 <= c.decayed(weight, age, half_life) <= weight


@given(weights, ages, ages, half_lives)
def test_decay_is_monotone_non_increasing_with_age(weight, a, b, half_life):
    young, old = sorted((a, b))
    assert c.decayed(weight, old, half_life) <= c.decayed(weight, young, half_life)


@given(weights, st.integers(1, 1000))
def test_the_weight_halves_exactly_at_one_half_life(weight, half_life):
    assert c.decayed(weight, half_life, half_life) == weight / 2
    assert c.decayed(weight, 2 * half_life, half_life) == weight / 4
    assert c.decayed(weight, 0, half_life) == weight


@given(weights, st.integers(1, 1000), half_lives)
def test_a_future_dated_signal_counts_at_full_weight_never_more(weight, ahead, half_life):
    assert c.decayed(weight, -ahead, half_life) == weight


@given(signals)
def test_the_score_is_the_sum_of_the_contributions(sigs):
    result = c.score(sigs, RULES, ON)
    assert result.score == round(math.fsum(x.decayed for x in result.contributions), 3)
    assert len(result.contributions) == len(sigs)
    assert [x.decayed for x in result.contributions] == sorted((x.decayed for x in result.contributions),
                                                               reverse=True)
    assert result.ruleset_version == "1.0.0" and result.computed_on == ON


@given(st.floats(0, 100, allow_nan=False), st.floats(0, 100, allow_nan=False))
def test_the_level_is_monotone_in_the_score(a, b):
    low, high = sorted((a, b))
    assert c.LEVELS.index(RULES.level(low)) <= c.LEVELS.index(RULES.level(high))


@given(signals, signal_strategy())
def test_adding_a_signal_never_lowers_the_score_on_the_same_day(sigs, extra):
    before, after = c.score(sigs, RULES, ON), c.score([*sigs, extra], RULES, ON)
    assert after.score >= before.score
    assert c.LEVELS.index(after.level) >= c.LEVELS.index(before.level)


@given(signals, st.randoms(use_true_random=False))
def test_the_order_of_signals_does_not_matter(sigs, rnd):
    shuffled = list(sigs)
    rnd.shuffle(shuffled)
    assert c.score(sigs, RULES, ON) == c.score(shuffled, RULES, ON)


@given(signal_strategy(), signals)
def test_a_signals_contribution_depends_only_on_its_own_age(sig, others):
    alone = c.contribution(sig, RULES, ON)
    together = c.score([*others, sig], RULES, ON).contributions
    assert alone in together
    expected = RULES.weight(sig.kind, sig.value) * 0.5 ** ((ON - sig.on).days / RULES.half_life(sig.kind))
    assert alone.decayed == pytest.approx(expected, rel=1e-12, abs=1e-12)


@given(signals, st.integers(0, 3000))
def test_scores_only_fall_as_time_passes_without_new_signals(sigs, days):
    assume(sigs)
    assert c.score(sigs, RULES, ON + timedelta(days=days)).score <= c.score(sigs, RULES, ON).score


@given(st.floats(0, 50, allow_nan=False))
def test_of_concern_is_medium_and_above(value):
    level = RULES.level(value)
    assert RULES.of_concern(level) == (level in ("medium", "high"))


def test_bands_and_weights_of_version_1_0_0():
    assert [RULES.level(x) for x in (0, 1.999, 2, 4.999, 5, 9.999, 10, 50)] == [
        "none", "none", "low", "low", "medium", "medium", "high", "high"]
    assert RULES.weight("visit_indicators", 3) == 4.5 and RULES.weight("visit_indicators", 9) == 6.0
    assert RULES.weight("identification", 2) == 16.0 and RULES.weight("cluster_linked", "high") == 4.0
    assert c.revisit_days("high", RULES) == 7 and c.revisit_days("none", RULES) is None


def test_a_concern_explains_itself():
    sigs = [c.Signal("identification", "idn-1", ON, 1), c.Signal("cluster_linked", "cl-1", ON - timedelta(90), "high"),
            c.Signal("visit_indicators", "vis-1", ON - timedelta(60), 2)]
    result = c.score(sigs, RULES, ON)
    assert [(x.kind, x.decayed, x.detail) for x in result.contributions] == [
        ("identification", 8.0, "1 person identified"), ("cluster_linked", 2.0, "priority high"),
        ("visit_indicators", 1.5, "2 indicators")]
    assert (result.score, result.level, result.of_concern) == (11.5, "high", True)
    assert c.changed("medium", True, result) and not c.changed("high", True, result)


def test_the_newest_rule_set_is_loaded_when_no_version_is_asked():
    assert c.load_rules(None).version == c.versions()[-1] == c.load_rules("").version
    assert c.load_rules("1.0.0") is RULES


def _write(folder, version, **change):
    d = json.loads((c.RULES_DIR / "1.0.0.json").read_text(encoding="utf-8"))
    d.update(version=version, **change)
    (folder / f"{version}.json").write_text(json.dumps(d), encoding="utf-8")


def test_versions_compare_numerically(tmp_path):
    for v in ("1.9.0", "1.10.0", "1.2.3"):
        _write(tmp_path, v)
    assert c.versions(tmp_path) == ["1.2.3", "1.9.0", "1.10.0"]
    assert c.load_rules(None, tmp_path).version == "1.10.0"
    assert c.load_rules("1.9.0", tmp_path).version == "1.9.0"
    assert c.newest(["2.0.0", "10.0.0", "9.99.99"]) == "10.0.0"


def test_an_unknown_or_inconsistent_rule_set_is_refused(tmp_path):
    with pytest.raises(RulesError):
        c.load_rules("9.9.9")
    _write(tmp_path, "2.0.0", levels=[["high", 1.0], ["medium", 5.0], ["low", 2.0]])
    with pytest.raises(RulesError):
        c.load_rules("2.0.0", tmp_path)
    bad = json.loads((c.RULES_DIR / "1.0.0.json").read_text(encoding="utf-8"))
    bad["signals"]["inspection_note"]["weights"]["concerns"] = -1.0
    with pytest.raises(RulesError):
        c.ConcernRules.from_dict(bad)
    with pytest.raises(RulesError):
        c.version_key("1.0")


def test_signal_values_are_checked():
    assert c.check_signal("visit_indicators", 0) == 0 and c.check_signal("cluster_linked", "high") == "high"
    for kind, value in (("identification", 0), ("identification", True), ("visit_indicators", -1),
                        ("cluster_linked", 3), ("rumour", 1)):
        with pytest.raises(InvalidSignal):
            c.check_signal(kind, value)
