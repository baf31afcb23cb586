"""Scoring as properties over random answers, an independent re-implementation of the ILO/EC element logic,
rule versions, and the concrete cases screeners meet."""
import copy

import pytest
from hypothesis import given, settings, strategies as st

from services.screening.domain import instruments as ins
from services.screening.domain.data import read
from services.screening.domain.errors import InvalidAnswer
from services.screening.domain.scoring import score

RANK = {outcome: rank for rank, outcome in enumerate(ins.OUTCOMES)}
EC = ins.instrument("ilo-ec-2009", "1.0.0")
CATALOGUE = {i.id: i for i in ins.catalogue()}


def answers_for(instrument):
    """Non-empty random answer mappings over a subset of the instrument's questions."""
    ids = [q.id for q in instrument.questions]
    answer = st.sampled_from(ins.ANSWERS)
    return st.dictionaries(st.sampled_from(ids), answer, min_size=1, max_size=len(ids))


any_instrument = st.sampled_from(sorted(CATALOGUE))
screening = any_instrument.flatmap(lambda i: st.tuples(st.just(CATALOGUE[i]), answers_for(CATALOGUE[i])))


@settings(max_examples=300, deadline=None)
@given(screening)
def test_outcome_is_known_and_scoring_is_deterministic(case):
    instrument, answers = case
    first = score(instrument, answers)
    assert first.outcome in ins.OUTCOMES
    assert first.rule in {c["id"] for c in instrument.rule["clauses"]}
    assert score(instrument, dict(reversed(list(answers.items())))) == first == score(instrument, answers)
    assert first.methods_of_control == tuple(sorted({c for f in first.fired for c in f.methods_of_control}))
    assert (first.instrument, first.version) == (instrument.id, instrument.version)


@settings(max_examples=200, deadline=None)
@given(any_instrument.flatmap(lambda i: st.tuples(st.just(CATALOGUE[i]), st.dictionaries(
    st.sampled_from([q.id for q in CATALOGUE[i].questions]), st.sampled_from(("no", "unknown", "declined")),
    min_size=1))))
def test_no_yes_means_no_indicators(case):
    instrument, answers = case
    result = score(instrument, answers)
    assert result.outcome == "no_indicators" and result.fired == () and not any(result.dimensions.values())


@settings(max_examples=300, deadline=None)
@given(screening, st.data())
def test_fired_indicators_are_exactly_those_with_a_yes(case, data):
    instrument, answers = case
    result = score(instrument, answers)
    expected = {}
    for q in instrument.questions:
        if answers.get(q.id) == "yes":
            expected.setdefault(q.indicator, []).append(q.id)
    assert {f.indicator: list(f.questions) for f in result.fired} == expected
    for f in result.fired:
        ind = instrument.indicator(f.indicator)
        assert (f.dimension, f.strength, f.methods_of_control) == (ind.dimension, ind.strength, ind.methods_of_control)


@settings(max_examples=300, deadline=None)
@given(screening, st.data())
def test_a_new_yes_never_lowers_the_outcome(case, data):
    instrument, answers = case
    before = score(instrument, answers)
    question = data.draw(st.sampled_from([q.id for q in instrument.questions]))
    after = score(instrument, {**answers, question: "yes"})
    assert RANK[after.outcome] >= RANK[before.outcome]


# -- an independent reading of the ILO/EC element logic --------------------------------------------------------------
RECRUITMENT = ("deceptive_recruitment", "coercive_recruitment", "recruitment_by_abuse_of_vulnerability")
EXPLOITATION = ("exploitative_conditions",)
COERCION = ("coercion_at_destination", "abuse_of_vulnerability_at_destination")


def element_logic(answers: dict) -> tuple[str, dict]:
    yes_indicators = {q.indicator for q in EC.questions if answers.get(q.id) == "yes"}
    positive = {}
    for dim in EC.dimensions:
        strengths = [i.strength for i in EC.indicators if i.dimension == dim and i.id in yes_indicators]
        strong = strengths.count("strong")
        positive[dim] = strong >= 2 or (strong >= 1 and len(strengths) - strong >= 1)
    if any(positive[d] for d in RECRUITMENT) and any(positive[d] for d in EXPLOITATION) \
            and any(positive[d] for d in COERCION):
        return "refer_for_identification", positive
    return ("indicators_present" if yes_indicators else "no_indicators"), positive


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.sampled_from([q.id for q in EC.questions]), st.sampled_from(("yes", "yes", "no", "unknown")),
                       min_size=1))
def test_ilo_ec_rule_equals_the_element_logic(answers):
    outcome, positive = element_logic(answers)
    result = score(EC, answers)
    assert (result.outcome, dict(result.dimensions)) == (outcome, positive)


def _strong_pair(dim: str) -> dict:
    """Answers making ``dim`` positive: one strong and one medium/weak indicator (or two strong)."""
    strong = [i for i in EC.indicators if i.dimension == dim and i.strength == "strong"]
    other = [i for i in EC.indicators if i.dimension == dim and i.strength != "strong"]
    chosen = [strong[0], other[0]] if other else strong[:2]
    return {q.id: "yes" for q in EC.questions if q.indicator in {i.id for i in chosen}}


@pytest.mark.parametrize("missing", ["recruitment", "exploitation", "coercion"])
def test_two_elements_are_not_enough(missing):
    parts = {"recruitment": _strong_pair("deceptive_recruitment"),
             "exploitation": _strong_pair("exploitative_conditions"),
             "coercion": _strong_pair("coercion_at_destination")}
    del parts[missing]
    answers = {k: v for part in parts.values() for k, v in part.items()}
    assert score(EC, answers).outcome == "indicators_present"


# -- concrete cases ------------------------------------------------------------------------------------------------
CONSTRUCTION_WORKER = {  # a Romanian bricklayer on a site in Jutland, as a screener records it
    "dr_nature_of_job_q1": "yes", "dr_wages_q1": "yes",          # promised other work, and a higher wage
    "ec_excessive_hours_q1": "yes", "ec_low_or_no_salary_q1": "yes",  # 70-hour weeks, no pay for two months
    "cd_documents_q1": "yes", "cd_debt_q1": "yes",                # passport with the foreman, travel debt
    "cr_violence_q1": "no", "av_family_situation_q1": "declined", "ec_hazardous_work_q1": "unknown",
}


def test_construction_worker_is_referred_by_the_element_rule():
    result = score(EC, CONSTRUCTION_WORKER)
    assert result.outcome == "refer_for_identification"
    assert result.rule == "elements_all_positive"
    assert {d for d, positive in result.dimensions.items() if positive} == \
        {"deceptive_recruitment", "exploitative_conditions", "coercion_at_destination"}
    assert "deceptive_recruitment positive: 1 strong, 1 medium" in result.explanation
    assert "exploitative_conditions positive: 1 strong, 1 medium" in result.explanation
    assert "coercion_at_destination positive: 2 strong" in result.explanation
    assert "coercive_recruitment not positive: nothing fired" in result.explanation
    assert any(line.startswith("elements_all_positive decided refer_for_identification") for line in result.explanation)
    assert "2 questions answered unknown or declined (they fire nothing)" in result.explanation
    assert {"FalsePromises", "ExcessiveWorkingHours", "WithholdsDocuments", "DebtBondage"} <= \
        set(result.methods_of_control)


def test_one_weak_indicator_only_is_indicators_present():
    result = score(EC, {"dr_education_q1": "yes", "cd_debt_q1": "no"})
    assert (result.outcome, result.rule) == ("indicators_present", "any_indicator")
    assert [(f.indicator, f.strength) for f in result.fired] == [("dr_education", "weak")]
    assert not any(result.dimensions.values())


def test_ilo_11_rules():
    eleven = ins.instrument("ilo-11")
    assert eleven.dimensions == {} and score(eleven, {"deception_q1": "no"}).dimensions == {}
    assert score(eleven, {"retention_of_identity_documents_q1": "yes"}).rule == "serious_indicator"
    two = score(eleven, {"deception_q1": "yes", "excessive_overtime_q1": "yes"})
    assert (two.outcome, two.rule) == ("refer_for_identification", "two_or_more_indicators")
    one = score(eleven, {"deception_q1": "yes", "isolation_q1": "no"})
    assert (one.outcome, one.rule) == ("indicators_present", "any_indicator")
    # two questions of one indicator are still one indicator
    same = score(eleven, {"isolation_q1": "yes", "isolation_q2": "yes"})
    assert same.outcome == "indicators_present" and same.fired[0].questions == ("isolation_q1", "isolation_q2")
    assert score(eleven, {"deception_q1": "declined"}).outcome == "no_indicators"


def test_brothel_rules():
    brothel = ins.instrument("brothel-questionnaire")
    coerced = score(brothel, {"coe_documents_withheld_q1": "yes", "coe_threats_q1": "yes"})
    assert (coerced.outcome, coerced.rule) == ("refer_for_identification", "coercion_positive")
    strong = score(brothel, {"exp_earnings_taken_q1": "yes", "rec_deceived_about_work_q1": "yes"})
    assert (strong.outcome, strong.rule) == ("refer_for_identification", "two_strong_indicators")
    ads = score(brothel, {"rec_travel_arranged_by_others_q2": "yes"})
    assert ads.outcome == "indicators_present"


def test_score_refuses_empty_answers():
    with pytest.raises(InvalidAnswer):
        score(EC, {})


# -- versions ------------------------------------------------------------------------------------------------------
def test_a_stricter_version_scores_differently_and_the_old_one_does_not_change():
    stricter = copy.deepcopy(read("instruments/ilo-ec-2009/1.0.0.json"))
    stricter["version"] = "1.1.0"
    stricter["rule"]["dimension_positive"] = [[{"strengths": ["strong"], "at_least": 2}]]  # two strong, always
    newer = ins.load(stricter)
    before = score(EC, CONSTRUCTION_WORKER)
    after = score(newer, CONSTRUCTION_WORKER)
    assert after.version == "1.1.0" and after.outcome == "indicators_present" and after.rule == "any_indicator"
    assert not after.dimensions["deceptive_recruitment"] and after.dimensions["coercion_at_destination"]
    again = score(ins.instrument("ilo-ec-2009", "1.0.0"), CONSTRUCTION_WORKER)
    assert again == before and again.outcome == "refer_for_identification"
    assert ins.instrument("ilo-ec-2009", "1.0.0").rule["dimension_positive"] != newer.rule["dimension_positive"]
