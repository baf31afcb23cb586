"""Screening instruments as versioned data (data/instruments/<id>/<version>.json), validated before they are used.

An instrument is the list of indicators a screener looks for, the yes/no questions that reveal them and the rule
that combines what fired into an outcome. The published instruments (ILO's 11 indicators, the ILO/EC operational
indicators) give indicators but no verified scoring rule, so the rule is data too: it can be corrected by adding a
new version file, and a screening keeps scoring under the version it was made with. Nothing in a file is trusted:
``load`` checks every id, reference, strength, code and rule clause and refuses the file with InvalidInstrument
naming the bad part, so a broken file never scores anyone.

The rule language is documented in data/README.md ("The rule language") and evaluated by scoring.py. ``load``
also guarantees the properties scoring promises: every condition counts "at least n ≥ 1" fired things, clauses are
ordered from the highest outcome down and end in a default of no_indicators – so no "yes" answer means
no_indicators, and turning an answer into "yes" never lowers the outcome.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping

from .data import INSTRUMENTS_DIR, read
from .errors import InvalidAnswer, InvalidInstrument, UnknownInstrument, UnknownInstrumentVersion, UnknownQuestion

OUTCOMES = ("no_indicators", "indicators_present", "refer_for_identification")  # by rank: the index is the rank
ANSWERS = ("yes", "no", "unknown", "declined")
CONTEXTS = ("workplace", "venue")
STRENGTHS = ("strong", "medium", "weak")
LANGUAGES = ("da", "en")  # every text is given in both
COUNTS = ("dimensions_positive", "indicators_fired")  # what a rule condition may count
METHODS_OF_CONTROL = frozenset({
    # IOM HTCDS MethodsOfControl as REFERENCE.md lists them. The published HTCDS 2.0 form spells some differently
    # (PhysicalThreats, ThreatsLawEnforcement, PsychoactiveSubstance, no RestrictsMovement/UsesChildren), so the
    # shipped instruments use only codes found in both; the unit tests check that against the form.
    "DebtBondage", "TakesEarnings", "RestrictsFinancialAccess", "Threats", "PsychologicalAbuse", "PhysicalAbuse",
    "SexualAbuse", "FalsePromises", "PsychoactiveSubstances", "RestrictsMovement", "RestrictsMedicalCare",
    "ExcessiveWorkingHours", "UsesChildren", "ThreatOfLawEnforcement", "WithholdsNecessities", "WithholdsDocuments",
    "Other"})

_VERSION = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_INSTRUMENT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_]{0,79}$")
_TOP_KEYS = {"id", "version", "title", "context", "source", "licence", "note", "dimensions", "indicators",
             "questions", "rule"}


class _FrozenDict(dict):
    """A dict that refuses changes: the rule and texts stay JSON-serialisable (shown to users) yet cannot be edited
    through a cached instrument."""

    def _refuse(self, *_: Any, **__: Any) -> None:
        raise TypeError("instrument data is read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __reduce__(self):  # copy and pickle rebuild it whole instead of item by item
        return (_FrozenDict, (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=lambda kv: kv[0])))


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return _FrozenDict((k, _freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def version_key(version: str) -> tuple[int, int, int]:
    """Semantic-version order: 1.10.0 comes after 1.9.0 (a string sort would put it before)."""
    match = _VERSION.match(version) if isinstance(version, str) else None
    if not match:
        raise InvalidInstrument(f"version {version!r} is not of the form major.minor.patch", field="version")
    return tuple(int(p) for p in match.groups())  # type: ignore[return-value]


@dataclass(frozen=True)
class Indicator:
    id: str
    dimension: str | None  # None where the instrument has no dimensions (ILO-11)
    strength: str | None  # strong / medium / weak, or None where the source grades none (ILO-11)
    text: Mapping[str, str]  # {"da": ..., "en": ...}
    methods_of_control: tuple[str, ...]  # HTCDS MethodsOfControl codes


@dataclass(frozen=True)
class Question:
    id: str
    indicator: str  # the indicator a "yes" fires
    text: Mapping[str, str]


@dataclass(frozen=True)
class Instrument:
    id: str
    version: str
    title: Mapping[str, str]
    context: str  # one of CONTEXTS: where the instrument may be used
    source: str
    licence: str
    indicators: tuple[Indicator, ...]
    questions: tuple[Question, ...]
    rule: Mapping  # the combination rule as loaded (also shown to users)
    dimensions: Mapping[str, Mapping[str, str]] = field(default_factory=_FrozenDict)  # id -> title, file order

    def indicator(self, id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == id:
                return ind
        # ids come from the instrument itself (a Fired, a Question): a miss is a programming error, not input
        raise KeyError(f"instrument {self.id} {self.version} has no indicator {_quote(id)}")

    def question(self, id: str) -> Question:
        for q in self.questions:
            if q.id == id:
                return q
        raise UnknownQuestion(f"instrument {self.id} {self.version} has no question {_quote(id)}", field="answers")


def _quote(value: object) -> str:
    """An id as a message may show it: repr, cut short (a caller's key is not trusted to be a short id)."""
    text = repr(value)
    return text if len(text) <= 42 else text[:40] + "…'"


# -- validation ----------------------------------------------------------------------------------------------------
class _Checker:
    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, part: str, problem: str) -> InvalidInstrument:
        return InvalidInstrument(f"{self.where}: {part}: {problem}", field="instrument")

    def keys(self, part: str, value: Any, required: set[str], optional: set[str] = frozenset()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(part, "must be an object")
        missing = sorted(required - value.keys())
        if missing:
            raise self.fail(part, f"missing {', '.join(missing)}")
        extra = sorted(value.keys() - required - optional)
        if extra:
            raise self.fail(part, f"unknown key {', '.join(map(_quote, extra))}")
        return value

    def text(self, part: str, value: Any) -> dict:
        self.keys(part, value, set(LANGUAGES))
        for lang in LANGUAGES:
            if not isinstance(value[lang], str) or not value[lang].strip():
                raise self.fail(f"{part}.{lang}", "must be a non-empty text")
        return value

    def string(self, part: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(part, "must be a non-empty string")
        return value

    def ident(self, part: str, value: Any, pattern: re.Pattern = _ID) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise self.fail(part, f"{_quote(value)} is not an id (lowercase letters, digits, _)")
        return value

    def items(self, part: str, value: Any) -> list:
        if not isinstance(value, list) or not value:
            raise self.fail(part, "must be a non-empty list")
        return value

    def count(self, part: str, value: Any, most: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(part, "must be a whole number ≥ 1")
        if value > most:
            raise self.fail(part, f"{value} can never be reached (only {most} to count)")
        return value

    def names(self, part: str, value: Any, known: tuple[str, ...] | set[str], what: str) -> list[str]:
        self.items(part, value)
        for name in value:
            if name not in known:
                raise self.fail(part, f"names unknown {what} {_quote(name)}")
        if len(set(value)) != len(value):
            raise self.fail(part, f"lists a {what} twice")
        return value


def load(document: dict) -> Instrument:
    """The instrument a document describes, after checking all of it; InvalidInstrument names the first bad part."""
    if not isinstance(document, dict):
        raise InvalidInstrument("instrument document must be an object", field="instrument")
    where = f"instrument {_quote(document.get('id'))} {_quote(document.get('version'))}"
    c = _Checker(where)
    doc = c.keys("document", document, _TOP_KEYS - {"note", "dimensions"}, {"note", "dimensions"})
    instrument_id = c.ident("id", doc["id"], _INSTRUMENT_ID)
    try:
        version_key(doc["version"])
    except InvalidInstrument:
        raise c.fail("version", "must be of the form major.minor.patch") from None
    c.text("title", doc["title"])
    if doc["context"] not in CONTEXTS:
        raise c.fail("context", f"must be one of {', '.join(CONTEXTS)}")
    c.string("source", doc["source"])
    c.string("licence", doc["licence"])
    if "note" in doc:
        c.string("note", doc["note"])

    dimensions: dict[str, dict] = {}
    for i, dim in enumerate(c.items("dimensions", doc["dimensions"]) if "dimensions" in doc else ()):
        c.keys(f"dimensions[{i}]", dim, {"id", "title"})
        dim_id = c.ident(f"dimensions[{i}].id", dim["id"])
        if dim_id in dimensions:
            raise c.fail(f"dimensions[{i}].id", f"duplicate dimension id {dim_id}")
        dimensions[dim_id] = c.text(f"dimensions[{i}].title", dim["title"])

    indicators: list[Indicator] = []
    seen: set[str] = set()
    for i, ind in enumerate(c.items("indicators", doc["indicators"])):
        part = f"indicators[{i}]"
        c.keys(part, ind, {"id", "text", "methods_of_control"}, {"dimension", "strength"})
        ind_id = c.ident(f"{part}.id", ind["id"])
        if ind_id in seen:
            raise c.fail(f"{part}.id", f"duplicate indicator id {ind_id}")
        seen.add(ind_id)
        dimension, strength = ind.get("dimension"), ind.get("strength")
        if dimensions and dimension not in dimensions:
            raise c.fail(f"{part}.dimension", f"{_quote(dimension)} is not one of the instrument's dimensions")
        if not dimensions and dimension is not None:
            raise c.fail(f"{part}.dimension", "the instrument declares no dimensions")
        if strength is not None and strength not in STRENGTHS:
            raise c.fail(f"{part}.strength", f"unknown strength {_quote(strength)} (one of {', '.join(STRENGTHS)})")
        if dimensions and strength is None:
            raise c.fail(f"{part}.strength", "an indicator in a dimension needs a strength")
        codes = c.names(f"{part}.methods_of_control", ind["methods_of_control"], METHODS_OF_CONTROL,
                        "MethodsOfControl code")
        indicators.append(Indicator(ind_id, dimension, strength, _freeze(c.text(f"{part}.text", ind["text"])),
                                    tuple(codes)))

    questions: list[Question] = []
    asked: set[str] = set()
    qseen: set[str] = set()
    for i, q in enumerate(c.items("questions", doc["questions"])):
        part = f"questions[{i}]"
        c.keys(part, q, {"id", "indicator", "text"})
        q_id = c.ident(f"{part}.id", q["id"])
        if q_id in qseen:
            raise c.fail(f"{part}.id", f"duplicate question id {q_id}")
        qseen.add(q_id)
        if q["indicator"] not in seen:
            raise c.fail(f"{part}.indicator", f"names missing indicator {_quote(q['indicator'])}")
        asked.add(q["indicator"])
        questions.append(Question(q_id, q["indicator"], _freeze(c.text(f"{part}.text", q["text"]))))
    never = [ind.id for ind in indicators if ind.id not in asked]
    if never:
        raise c.fail("questions", f"no question asks about indicator {never[0]} (it could never fire)")

    _check_rule(c, doc["rule"], tuple(dimensions), indicators)
    return Instrument(instrument_id, doc["version"], _freeze(doc["title"]), doc["context"], doc["source"],
                      doc["licence"], tuple(indicators), tuple(questions), _freeze(doc["rule"]), _freeze(dimensions))


def _check_rule(c: _Checker, rule: Any, dimensions: tuple[str, ...], indicators: list[Indicator]) -> None:
    c.keys("rule", rule, {"verified", "clauses"}, {"note", "dimension_positive"})
    if not isinstance(rule["verified"], bool):
        raise c.fail("rule.verified", "must be true or false")
    if "note" in rule:
        c.string("rule.note", rule["note"])
    strengths = {ind.strength for ind in indicators if ind.strength}
    if dimensions and "dimension_positive" not in rule:
        raise c.fail("rule", "an instrument with dimensions needs dimension_positive")
    if "dimension_positive" in rule:
        if not dimensions:
            raise c.fail("rule.dimension_positive", "the instrument declares no dimensions")
        for a, alternative in enumerate(c.items("rule.dimension_positive", rule["dimension_positive"])):
            for r, req in enumerate(c.items(f"rule.dimension_positive[{a}]", alternative)):
                part = f"rule.dimension_positive[{a}][{r}]"
                c.keys(part, req, {"strengths", "at_least"})
                c.names(f"{part}.strengths", req["strengths"], STRENGTHS, "strength")
                c.count(f"{part}.at_least", req["at_least"], len(indicators))

    clauses = c.items("rule.clauses", rule["clauses"])
    ids: set[str] = set()
    last_rank = len(OUTCOMES)
    for i, clause in enumerate(clauses):
        part = f"rule.clauses[{i}]"
        is_last = i == len(clauses) - 1
        if not isinstance(clause, dict):
            raise c.fail(part, "must be an object")
        if "default" in clause:
            c.keys(part, clause, {"id", "outcome", "default"})
            if clause["default"] is not True:
                raise c.fail(f"{part}.default", "must be true when given")
            if not is_last:
                raise c.fail(part, "only the last clause may be the default")
            if clause["outcome"] != OUTCOMES[0]:
                raise c.fail(f"{part}.outcome", f"the default must be {OUTCOMES[0]} (nothing fired)")
        else:
            c.keys(part, clause, {"id", "outcome", "when"})
            if is_last:
                raise c.fail(part, "the last clause must be the default ({\"default\": true})")
            for k, cond in enumerate(c.items(f"{part}.when", clause["when"])):
                _check_condition(c, f"{part}.when[{k}]", cond, dimensions, indicators, strengths)
        clause_id = c.ident(f"{part}.id", clause["id"])
        if clause_id in ids:
            raise c.fail(f"{part}.id", f"duplicate clause id {clause_id}")
        ids.add(clause_id)
        if clause["outcome"] not in OUTCOMES:
            raise c.fail(f"{part}.outcome", f"must be one of {', '.join(OUTCOMES)}")
        rank = OUTCOMES.index(clause["outcome"])
        if rank > last_rank:
            # a higher outcome after a lower one could be shadowed when more answers turn "yes": not monotone
            raise c.fail(f"{part}.outcome", "clauses must be ordered from the highest outcome down")
        last_rank = rank


def _check_condition(c: _Checker, part: str, cond: Any, dimensions: tuple[str, ...], indicators: list[Indicator],
                     strengths: set[str]) -> None:
    if not isinstance(cond, dict) or cond.get("count") not in COUNTS:
        raise c.fail(f"{part}.count", f"must be one of {', '.join(COUNTS)}")
    if cond["count"] == "dimensions_positive":
        c.keys(part, cond, {"count", "of", "at_least"})
        if not dimensions:
            raise c.fail(part, "counts dimensions but the instrument declares none")
        of = c.names(f"{part}.of", cond["of"], dimensions, "dimension")
        c.count(f"{part}.at_least", cond["at_least"], len(of))
        return
    c.keys(part, cond, {"count", "at_least"}, {"of", "strengths"})
    pool = indicators
    if "of" in cond:
        of = c.names(f"{part}.of", cond["of"], {ind.id for ind in indicators}, "indicator")
        pool = [ind for ind in pool if ind.id in of]
    if "strengths" in cond:
        wanted = c.names(f"{part}.strengths", cond["strengths"], tuple(strengths), "strength (not used by any indicator)")
        pool = [ind for ind in pool if ind.strength in wanted]
    c.count(f"{part}.at_least", cond["at_least"], len(pool))


# -- the shipped instruments ---------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _shipped() -> Mapping[str, Mapping[str, Instrument]]:
    """Every data/instruments/<id>/<version>.json, loaded and checked once per process (a bad file fails loudly)."""
    found: dict[str, dict[str, Instrument]] = {}
    for folder in sorted(p for p in INSTRUMENTS_DIR.iterdir() if p.is_dir()):
        for path in sorted(folder.glob("*.json")):
            version_key(path.stem)
            loaded = load(read(f"instruments/{folder.name}/{path.name}"))
            if (loaded.id, loaded.version) != (folder.name, path.stem):
                raise InvalidInstrument(f"instruments/{folder.name}/{path.name} says it is {loaded.id} "
                                        f"{loaded.version}", field="instrument")
            found.setdefault(loaded.id, {})[loaded.version] = loaded
    return {k: {v: found[k][v] for v in sorted(found[k], key=version_key)} for k in sorted(found)}


def versions(instrument_id: str) -> tuple[str, ...]:
    """The versions of an instrument, oldest first."""
    known = _shipped().get(instrument_id)
    if not known:
        raise UnknownInstrument(f"no instrument {_quote(instrument_id)}", field="instrument")
    return tuple(known)


def instrument(instrument_id: str, version: str | None = None) -> Instrument:
    """An instrument at ``version``, or its newest version when None."""
    chosen = version if version is not None else versions(instrument_id)[-1]
    found = _shipped()[instrument_id].get(chosen) if instrument_id in _shipped() else None
    if found is None:
        versions(instrument_id)  # unknown instrument first
        raise UnknownInstrumentVersion(f"instrument {instrument_id} has no version {_quote(chosen)}; there are "
                                       f"{', '.join(versions(instrument_id))}", field="version")
    return found


def catalogue() -> tuple[Instrument, ...]:
    """The newest version of each instrument, by id."""
    return tuple(instrument(i) for i in _shipped())


# -- answers -------------------------------------------------------------------------------------------------------
def check_answers(instrument: Instrument, answers: Mapping[str, str]) -> dict[str, str]:
    """The answers as question id -> answer, in the instrument's question order, after checking every entry.

    Questions left out are simply not answered (they count as neither yes nor no). Messages name the question id
    only, never the value given: a wrong value may be free text a screener typed.
    """
    if not isinstance(answers, Mapping) or not answers:
        raise InvalidAnswer("answers must map at least one question id to an answer", field="answers")
    if len(answers) > len(instrument.questions):
        raise InvalidAnswer(f"{len(answers)} answers for {len(instrument.questions)} questions", field="answers")
    known = {q.id for q in instrument.questions}
    for key, value in answers.items():
        if key not in known:
            raise UnknownQuestion(f"instrument {instrument.id} {instrument.version} has no question {_quote(key)}",
                                  field="answers")
        if not isinstance(value, str) or value not in ANSWERS:
            raise InvalidAnswer(f"question {key}: the answer must be one of {', '.join(ANSWERS)}", field="answers")
    return {q.id: answers[q.id] for q in instrument.questions if q.id in answers}
