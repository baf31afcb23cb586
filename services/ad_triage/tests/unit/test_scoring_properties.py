"""Property tests for scoring: determinism, zero weights are inert, positive evidence never lowers a score."""
import copy
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from services.ad_triage.domain.features import FEATURES
from services.ad_triage.domain.records import Contact
from services.ad_triage.domain.ruleset import RULES_DIR, parse_ruleset, ruleset_version
from services.ad_triage.domain.scoring import score
from services.ad_triage.domain.stored import to_stored

from .conftest import make_ad, pseudonymise

V1 = ruleset_version("1.0.0")
RAW = json.loads((RULES_DIR / "ruleset-1.0.0.json").read_text(encoding="utf-8"))
# One phrase per indicator that the indicator's lexicon matches; used to add its evidence to a text.
PHRASES = {
    "trust-professional-en": "Professional and discreet.", "trust-professional-da": "Seriøs og pålidelig.",
    "explicit-ethnicity-en": "Sweet Thai girl.", "explicit-ethnicity-da": "Sød rumænsk pige.",
    "under-18-language-en": "Just turned 18.", "under-18-language-da": "Ung pige, lige fyldt 18.",
    "movement-language-en": "New in town, leaving soon.", "movement-language-da": "Ny i byen, rejser snart.",
    "stated-age-under-23": "Jeg er 20 år. I am 21 years old.",
    "client-screening-en": "No private numbers.", "client-screening-da": "Kun seriøse henvendelser.",
}
FILLER = ["Hej søde mand.", "Hello gentlemen.", "Rent og roligt sted.", "Clean and quiet place.", "Kys Mia.",
          "Ring 29 99 12 34.", "snap: mia_dk", "Pris 1500 kr.", "Open 10-22."]

texts = st.lists(st.sampled_from(FILLER + list(PHRASES.values())), min_size=1, max_size=8).map(" ".join)
languages = st.sampled_from(["da", "en", "de"])
features = st.fixed_dictionaries({name: st.integers(0, 12).map(float) for name in sorted(FEATURES)})


def stored(text: str, language: str):
    ad = make_ad(text=text, language=language, contacts=(Contact("phone", "29991234"),))
    return to_stored(ad, pseudonymise)


@settings(max_examples=60, deadline=None)
@given(texts, languages, features)
def test_scoring_is_deterministic(text, language, feats):
    ad = stored(text, language)
    first = score(ad, feats, V1)
    reordered = dict(reversed(list(feats.items())))  # dict order must not matter
    assert score(ad, reordered, ruleset_version("1.0.0")) == first
    assert round(first.value, 3) == first.value


@settings(max_examples=40, deadline=None)
@given(texts, languages, features, st.sets(st.sampled_from([i["id"] for i in RAW["indicators"]]), min_size=1))
def test_zero_weight_indicators_never_change_the_score(text, language, feats, zeroed):
    with_zeros = copy.deepcopy(RAW)
    for indicator in with_zeros["indicators"]:
        if indicator["id"] in zeroed:
            indicator["weight"] = 0
    without = copy.deepcopy(with_zeros)
    without["indicators"] = [i for i in with_zeros["indicators"] if i["id"] not in zeroed] or \
        [dict(with_zeros["indicators"][0], id="placeholder", weight=0)]
    ad = stored(text, language)
    a, b = score(ad, feats, parse_ruleset(with_zeros)), score(ad, feats, parse_ruleset(without))
    assert (a.value, a.priority) == (b.value, b.priority)


@settings(max_examples=40, deadline=None)
@given(texts, st.sampled_from(["da", "en"]), features)
def test_shipped_non_predictor_phrases_never_change_the_score(text, language, feats):
    base = score(stored(text, language), feats, V1)
    for phrase in ("Ny i byen, kun her få dage.", "New in town, leaving soon.", "Jeg er 19 år.",
                   "Serious gentlemen only.", "Ingen skjulte numre."):
        extended = score(stored(f"{text} {phrase}", language), feats, V1)
        assert (extended.value, extended.priority) == (base.value, base.priority)


@settings(max_examples=60, deadline=None)
@given(texts, st.sampled_from(["da", "en"]), features,
       st.sampled_from([i for i in V1.indicators if i.weight_milli > 0 and i.kind == "pattern"]))
def test_adding_positive_pattern_evidence_never_lowers_the_score(text, language, feats, indicator):
    before = score(stored(text, language), feats, V1)
    after = score(stored(f"{text} {PHRASES[indicator.id]}", language), feats, V1)
    assert after.value >= before.value
    if indicator.applies_to(language) and indicator.id not in {f.indicator_id for f in before.fired}:
        assert after.value_milli == before.value_milli + indicator.weight_milli and indicator.id in {f.indicator_id for f in after.fired}


@settings(max_examples=60, deadline=None)
@given(texts, languages, features, st.sampled_from(sorted(FEATURES)), st.integers(1, 10))
def test_raising_a_feature_never_lowers_the_score(text, language, feats, name, bump):
    ad = stored(text, language)
    higher = {**feats, name: feats[name] + bump}
    assert score(ad, higher, V1).value >= score(ad, feats, V1).value


def test_every_phrase_matches_its_own_indicator():
    # Guards the property tests above: a phrase that stopped matching would make them vacuous.
    for indicator in V1.indicators:
        if indicator.kind == "pattern":
            assert indicator.pattern.search(PHRASES[indicator.id]), indicator.id
