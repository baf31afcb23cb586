"""The shipped instruments load and speak HTCDS; ``load`` refuses broken documents; answers are checked."""
import copy
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from services.screening.domain import instruments as ins
from services.screening.domain.data import DATA, read
from services.screening.domain.errors import (InvalidAnswer, InvalidInstrument, UnknownInstrument,
                                              UnknownInstrumentVersion, UnknownQuestion)

XFORM = Path("/work/shared/standards/htcds/htcds_xlsform.xml")
SHIPPED = sorted(p.relative_to(DATA).as_posix() for p in (DATA / "instruments").glob("*/*.json"))


def test_every_shipped_instrument_loads_and_is_in_the_catalogue():
    assert {"instruments/ilo-11/1.0.0.json", "instruments/ilo-ec-2009/1.0.0.json",
            "instruments/brothel-questionnaire/1.0.0.json"} <= set(SHIPPED)
    for name in SHIPPED:
        loaded = ins.load(copy.deepcopy(read(name)))
        assert loaded == ins.instrument(loaded.id, loaded.version)
    assert {i.id for i in ins.catalogue()} == {"ilo-11", "ilo-ec-2009", "brothel-questionnaire"}


@pytest.mark.parametrize("instrument", ins.catalogue(), ids=lambda i: i.id)
def test_every_text_is_given_in_danish_and_english(instrument):
    texts = [instrument.title, *(i.text for i in instrument.indicators), *(q.text for q in instrument.questions),
             *instrument.dimensions.values()]
    for text in texts:
        assert set(text) == {"da", "en"} and all(text[lang].strip() for lang in ("da", "en"))
    assert instrument.source and instrument.licence and instrument.rule["verified"] is False


def test_contexts_and_shapes():
    assert ins.instrument("ilo-11").context == "workplace" and not ins.instrument("ilo-11").dimensions
    assert len(ins.instrument("ilo-11").indicators) == 11
    ec = ins.instrument("ilo-ec-2009")
    assert ec.context == "workplace"
    assert tuple(ec.dimensions) == ("deceptive_recruitment", "coercive_recruitment",
                                    "recruitment_by_abuse_of_vulnerability", "exploitative_conditions",
                                    "coercion_at_destination", "abuse_of_vulnerability_at_destination")
    for dim in ec.dimensions:
        assert sum(1 for i in ec.indicators if i.dimension == dim) >= 5
    brothel = ins.instrument("brothel-questionnaire")
    assert brothel.context == "venue" and "not an official CMM instrument" in brothel.source


def _xform_methods_of_control() -> set[str]:
    """The values of the XForm's choice list that holds the MethodsOfControl codes (found by its content)."""
    root = ET.parse(XFORM).getroot()
    lists = []
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] in ("select", "select1"):
            values = {v.text for v in element.iter() if v.tag.rsplit("}", 1)[-1] == "value"}
            lists.append(values)
    holding = [values for values in lists if {"DebtBondage", "WithholdsDocuments", "TakesEarnings"} <= values]
    assert len(holding) == 1, "expected one choice list with the MethodsOfControl codes"
    return holding[0]


def test_methods_of_control_are_htcds_codes():
    used = {code for i in ins.catalogue() for ind in i.indicators for code in ind.methods_of_control}
    assert used <= ins.METHODS_OF_CONTROL
    if not XFORM.exists():
        pytest.skip(f"{XFORM} is missing, so the codes cannot be checked against the published HTCDS form")
    published = _xform_methods_of_control()
    assert used <= published, f"not in the HTCDS form: {sorted(used - published)}"


def test_versions_and_unknowns():
    assert ins.versions("ilo-ec-2009") == ("1.0.0",)
    assert ins.instrument("ilo-ec-2009").version == "1.0.0"
    with pytest.raises(UnknownInstrument):
        ins.instrument("ilo-12")
    with pytest.raises(UnknownInstrument):
        ins.versions("nope")
    with pytest.raises(UnknownInstrumentVersion):
        ins.instrument("ilo-11", "9.9.9")


def test_semantic_version_order():
    assert sorted(["1.10.0", "1.9.0", "1.2.10", "1.2.9"], key=ins.version_key) == \
        ["1.2.9", "1.2.10", "1.9.0", "1.10.0"]


def test_rule_is_read_only_but_serialisable():
    import json
    rule = ins.instrument("ilo-ec-2009").rule
    assert json.loads(json.dumps(rule))["clauses"][0]["id"] == "elements_all_positive"
    with pytest.raises(TypeError):
        rule["verified"] = True  # type: ignore[index]
    assert copy.deepcopy(rule) == rule


# -- broken documents ----------------------------------------------------------------------------------------------
def _ec() -> dict:
    return copy.deepcopy(read("instruments/ilo-ec-2009/1.0.0.json"))


def _eleven() -> dict:
    return copy.deepcopy(read("instruments/ilo-11/1.0.0.json"))


def _unknown_strength(d):
    d["indicators"][0]["strength"] = "very_strong"


def _rule_unknown_dimension(d):
    d["rule"]["clauses"][0]["when"][0]["of"].append("forced_marriage")


def _no_default(d):
    d["rule"]["clauses"].pop()


def _default_not_last(d):
    d["rule"]["clauses"].insert(0, {"id": "early", "outcome": "no_indicators", "default": True})


def _question_missing_indicator(d):
    d["questions"][0]["indicator"] = "dr_no_such_thing"


def _duplicate_indicator(d):
    d["indicators"][1]["id"] = d["indicators"][0]["id"]


def _duplicate_question(d):
    d["questions"][1]["id"] = d["questions"][0]["id"]


def _duplicate_clause(d):
    d["rule"]["clauses"][1]["id"] = d["rule"]["clauses"][0]["id"]


def _unknown_code(d):
    d["indicators"][0]["methods_of_control"] = ["Kidnapping"]


def _missing_danish(d):
    del d["questions"][3]["text"]["da"]


def _indicator_unasked(d):
    d["questions"] = [q for q in d["questions"] if q["indicator"] != "ec_hazardous_work"]


def _lower_outcome_first(d):
    d["rule"]["clauses"][0], d["rule"]["clauses"][1] = d["rule"]["clauses"][1], d["rule"]["clauses"][0]


def _at_least_zero(d):
    d["rule"]["clauses"][1]["when"][0]["at_least"] = 0


def _unreachable_count(d):
    d["rule"]["clauses"][0]["when"][1]["at_least"] = 2  # only one exploitation dimension


def _typo_in_condition(d):
    d["rule"]["clauses"][1]["when"][0]["at_lest"] = 1


def _default_refers(d):
    d["rule"]["clauses"][-1]["outcome"] = "refer_for_identification"


def _bad_context(d):
    d["context"] = "street"


def _bad_version(d):
    d["version"] = "1.0"


def _no_dimension_thresholds(d):
    del d["rule"]["dimension_positive"]


BROKEN = {  # breakage -> what the message must say
    _unknown_strength: "unknown strength 'very_strong'", _rule_unknown_dimension: "unknown dimension 'forced_marriage'",
    _no_default: "must be the default", _default_not_last: "only the last clause may be the default",
    _question_missing_indicator: "missing indicator 'dr_no_such_thing'", _duplicate_indicator: "duplicate indicator",
    _duplicate_question: "duplicate question", _duplicate_clause: "duplicate clause",
    _unknown_code: "unknown MethodsOfControl code 'Kidnapping'", _missing_danish: "questions[3].text: missing da",
    _indicator_unasked: "ec_hazardous_work", _lower_outcome_first: "highest outcome down",
    _at_least_zero: "≥ 1", _unreachable_count: "can never be reached", _typo_in_condition: "unknown key 'at_lest'",
    _default_refers: "default must be no_indicators", _bad_context: "context", _bad_version: "version",
    _no_dimension_thresholds: "needs dimension_positive"}


@pytest.mark.parametrize("breakage", BROKEN, ids=lambda f: f.__name__.strip("_"))
def test_load_refuses_broken_documents(breakage):
    document = _ec()
    breakage(document)
    with pytest.raises(InvalidInstrument) as refused:
        ins.load(document)
    assert refused.value.code == "invalid_instrument" and "ilo-ec-2009" in refused.value.message
    assert BROKEN[breakage] in refused.value.message


def test_load_refuses_dimensions_where_the_instrument_has_none():
    document = _eleven()
    document["rule"]["clauses"][0]["when"] = [{"count": "dimensions_positive", "of": ["deception"], "at_least": 1}]
    with pytest.raises(InvalidInstrument, match="declares none"):
        ins.load(document)
    document = _eleven()
    document["indicators"][0]["dimension"] = "recruitment"
    with pytest.raises(InvalidInstrument, match="declares no dimensions"):
        ins.load(document)


def test_the_message_names_the_bad_part():
    document = _ec()
    document["rule"]["clauses"][0]["when"][2]["of"] = ["coercion_at_destination", "coercion_elsewhere"]
    with pytest.raises(InvalidInstrument, match=r"rule\.clauses\[0\]\.when\[2\]\.of.*coercion_elsewhere"):
        ins.load(document)


# -- answers -------------------------------------------------------------------------------------------------------
def test_check_answers():
    eleven = ins.instrument("ilo-11")
    assert ins.check_answers(eleven, {"deception_q1": "no", "isolation_q1": "yes"}) == \
        {"deception_q1": "no", "isolation_q1": "yes"}
    with pytest.raises(UnknownQuestion) as unknown:
        ins.check_answers(eleven, {"dr_wages_q1": "yes"})
    assert unknown.value.field == "answers"
    with pytest.raises(InvalidAnswer) as invalid:
        ins.check_answers(eleven, {"deception_q1": "he said the boss keeps his passport"})
    assert invalid.value.field == "answers" and "passport" not in invalid.value.message
    with pytest.raises(InvalidAnswer):
        ins.check_answers(eleven, {})
    with pytest.raises(InvalidAnswer):
        ins.check_answers(eleven, {"deception_q1": True})
