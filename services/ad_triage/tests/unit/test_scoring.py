from dataclasses import replace

import pytest

from services.ad_triage.domain.masking import MASK
from services.ad_triage.domain.records import Contact
from services.ad_triage.domain.ruleset import ruleset_version
from services.ad_triage.domain.scoring import (
    FeatureEvidence, MissingFeature, PatternEvidence, Score, rescore, score,
)
from services.ad_triage.domain.stored import to_stored

from .conftest import make_ad, pseudonymise

QUIET = {"obfuscated_phone": 0, "obfuscated_handle": 0, "contact_city_spread": 1, "cluster_size": 1,
         "area_code_mismatch": 0}
V1, V11 = ruleset_version("1.0.0"), ruleset_version("1.1.0")


def stored(text: str, language: str = "da", **kw):
    return to_stored(make_ad(text=text, language=language, **kw), pseudonymise)


def test_plain_ad_scores_zero_with_priority_none():
    result = score(stored("Velkommen til min private massage."), QUIET, V1)
    assert result == Score(0.0, "none", "1.0.0", ())


def test_pattern_evidence_points_into_the_masked_text():
    ad = stored("Ring 29 99 12 34. Jeg er professionel og diskret og sikker. Smuk rumænsk pige.")
    result = score(ad, QUIET, V1)
    fired = {f.indicator_id: f for f in result.fired}
    assert set(fired) == {"trust-professional-da", "explicit-ethnicity-da"}
    evidence = fired["trust-professional-da"].evidence
    assert isinstance(evidence, PatternEvidence) and evidence.field == "text"
    assert ad.text[evidence.start:evidence.end] == evidence.snippet == "professionel"
    assert result.value == 4.0 and result.priority == "medium"
    assert "29 99" not in repr(result) and MASK * 11 in ad.text


def test_language_specific_indicators_only_apply_to_their_language():
    danish_words_in_english_ad = stored("Jeg er professionel", language="en")
    assert score(danish_words_in_english_ad, QUIET, V1).fired == ()
    assert [f.indicator_id for f in score(stored("Totally professional", "en"), QUIET, V1).fired] == \
        ["trust-professional-en"]


def test_non_predictors_fire_visibly_with_zero_weight():
    result = score(stored("Ny i byen, kun her få dage. Jeg er 21 år. Kun seriøse henvendelser."), QUIET, V1)
    assert {f.indicator_id for f in result.fired} == {"movement-language-da", "stated-age-under-23",
                                                     "client-screening-da"}
    assert all(f.weight == 0 for f in result.fired) and result.value == 0 and result.priority == "none"


def test_feature_indicators_fire_at_threshold_with_feature_evidence():
    features = dict(QUIET, obfuscated_phone=1, contact_city_spread=3, cluster_size=4)
    result = score(stored("Hej"), features, V1)
    assert [(f.indicator_id, f.evidence) for f in result.fired] == [
        ("obscured-phone", FeatureEvidence("obfuscated_phone", 1)),
        ("contact-city-spread", FeatureEvidence("contact_city_spread", 3)),
    ]
    assert result.value == 3.5 and result.priority == "medium"


def test_priority_cut_offs_come_from_the_rule_set():
    text = "Ung pige, lige fyldt 18. Sød thailandsk pige. Seriøs og pålidelig."  # 3 + 2 + 2
    assert score(stored(text), QUIET, V1).priority == "high"
    assert score(stored("Sød thailandsk pige."), QUIET, V1).priority == "low"


def test_missing_feature_is_a_named_error():
    with pytest.raises(MissingFeature, match="feature 'cluster_size' needed by indicator 'cluster-size'"):
        score(stored("Hej"), {k: v for k, v in QUIET.items() if k != "cluster_size"}, V1)


def test_evidence_is_masked_even_when_given_raw_text():
    ad = replace(stored("Hej"), text="Professional lady, call 29991234 or snap: anna_dk", language="en")
    result = score(ad, QUIET, V1)
    assert result.fired and "29991234" not in repr(result) and "anna_dk" not in repr(result)


def test_rescore_lists_only_ads_whose_priority_changed():
    network = dict(QUIET, contact_city_spread=4, cluster_size=6)  # 1.5 + 1 in 1.0.0, 2.5 + 2 in 1.1.0
    ads = [
        (stored("Sød thailandsk pige.", ad_id="a"), network),  # 2 + 2.5 = 4.5 medium -> 2 + 4.5 = 6.5 high
        (stored("Sød thailandsk pige.", ad_id="b"), QUIET),  # 2 low in both
        (stored("Hej", ad_id="c"), dict(QUIET, cluster_size=6)),  # 1 none -> 2 low
        (stored("Hej", ad_id="d"), dict(QUIET, area_code_mismatch=1, cluster_size=5)),  # 2 low -> 2.5 low
    ]
    old = {ad.key: score(ad, features, V1) for ad, features in ads}
    changed = rescore(ads, old, V11)
    assert [(key[1], before.priority, after.priority) for key, before, after in changed] == [
        ("a", "medium", "high"), ("c", "none", "low")]
    assert all(after.ruleset_version == "1.1.0" for _, _, after in changed)


def test_rescore_treats_unscored_ads_as_priority_none():
    ad = stored("Sød thailandsk pige.", ad_id="new")
    [(key, before, after)] = rescore([(ad, QUIET)], {}, V11)
    assert key == ad.key and before is None and after.priority == "low"


def test_contacts_never_appear_in_stored_ad_or_score():
    ad = make_ad(text="Professionel pige. Ring to ni ni ni en to tre fire eller snap: anna_dk",
                 contacts=(Contact("phone", "to ni ni ni en to tre fire"), Contact("snapchat", "anna_dk")))
    kept = to_stored(ad, pseudonymise)
    result = score(kept, QUIET, V1)
    dumped = repr(kept) + repr(result)
    for secret in ("to ni ni", "2999", "anna_dk", "+4529991234"):
        assert secret not in dumped


def test_a_stored_score_names_its_indicators_and_reads_back_with_the_rule_sets_rationale():
    from services.ad_triage.codec import score_doc, score_from_doc
    result = score(stored("Jeg er professionel og diskret. Smuk rumænsk pige."), dict(QUIET, obfuscated_phone=1), V11)
    assert len(result.fired) >= 2
    doc = score_doc(result)
    assert all(set(f) == {"indicator_id", "weight", "evidence"} for f in doc["fired"])
    assert score_from_doc(doc) == result
    rationales = {i.id: i.rationale for i in V11.indicators}
    assert [f.rationale for f in score_from_doc(doc).fired] == [rationales[f.indicator_id] for f in result.fired]
    # a score stored before the rationale was left out keeps the text it was stored with
    doc["fired"][0]["rationale"] = "as stored then"
    assert score_from_doc(doc).fired[0].rationale == "as stored then"
