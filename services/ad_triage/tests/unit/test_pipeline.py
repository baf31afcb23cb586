"""The domain pieces together, on generated data: nothing personal survives into what is stored or scored."""
import io
import re

import phonenumbers

from services.ad_triage.domain.batch import batch_features
from services.ad_triage.domain.contacts import PHONE_KINDS, normalise_contact
from services.ad_triage.domain.deobfuscation import recover_phone_digits
from services.ad_triage.domain.masking import scan_contacts
from services.ad_triage.domain.record_lines import parse_jsonl
from services.ad_triage.domain.records import Ad
from services.ad_triage.domain.ruleset import ruleset_version
from services.ad_triage.domain.scoring import rescore, score
from services.ad_triage.domain.stored import to_stored
from services.ad_triage.domain.triage import is_flagged
from services.ad_triage.tools.generate_ads import generate, write_jsonl

from .conftest import pseudonymise


def run_pipeline(count: int, seed: int):
    buffer = io.StringIO()
    write_jsonl(generate(count, seed), buffer)
    raw = [ad for _, ad in parse_jsonl(buffer.getvalue().splitlines()) if isinstance(ad, Ad)]
    stored = [to_stored(ad, pseudonymise) for ad in raw]
    features, summaries = batch_features(stored)
    return raw, stored, features, summaries


def test_pipeline_flags_some_ads_and_keeps_contacts_out_of_records():
    raw, stored, features, summaries = run_pipeline(600, 5)
    ruleset = ruleset_version()
    scores = {ad.key: score(ad, features[ad.key], ruleset) for ad in stored}
    flagged = [key for key, s in scores.items() if is_flagged(s, ruleset)]
    assert 0 < len(flagged) < len(stored)
    assert any(s.ad_count > 1 for s in summaries.values())
    published = repr(stored) + repr(scores) + repr(summaries)
    without_hex = re.sub(r"[0-9a-f]{16,}", "", published)  # pseudonyms and image hashes are long hex runs
    for ad in raw:
        for contact in ad.contacts:
            assert contact.value not in published
            if contact.kind in PHONE_KINDS:
                national = str(phonenumbers.parse(normalise_contact(contact.kind, contact.value).value).national_number)
                assert national not in without_hex
        scan = scan_contacts(ad.text)
        for found in scan.found:  # numbers given only in the text too, as scraped ads do
            assert recover_phone_digits(scan.value(found)).text[-8:] not in without_hex


def test_numbers_only_in_the_text_link_ads_like_the_contacts_field():
    raw, stored, _, _ = run_pipeline(600, 5)
    text_only = [s for r, s in zip(raw, stored) if not any(c.kind in PHONE_KINDS for c in r.contacts)]
    assert text_only and all(any(c.source == "text" for c in s.contacts) for s in text_only)
    from_field = {c.pseudonym for s in stored for c in s.contacts if c.source == "field"}
    assert any(c.pseudonym in from_field for s in text_only for c in s.contacts if c.source == "text")


def test_pipeline_is_deterministic_and_rescore_changes_some_priorities():
    _, stored, features, _ = run_pipeline(300, 9)
    _, stored_again, features_again, _ = run_pipeline(300, 9)
    v1, v11 = ruleset_version("1.0.0"), ruleset_version("1.1.0")
    first = {ad.key: score(ad, features[ad.key], v1) for ad in stored}
    assert first == {ad.key: score(ad, features_again[ad.key], v1) for ad in stored_again}
    changed = rescore([(ad, features[ad.key]) for ad in stored], first, v11)
    assert changed and all(old.priority != new.priority for _, old, new in changed)
