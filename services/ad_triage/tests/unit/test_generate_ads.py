import io
import json
from collections import Counter

import phonenumbers
import pytest

from services.ad_triage.domain.contacts import PHONE_KINDS, normalise_contact
from services.ad_triage.domain.record_lines import parse_csv, parse_jsonl
from services.ad_triage.domain.records import Ad, RecordRejected
from services.ad_triage.domain.stored import to_stored
from services.ad_triage.tools import generate_ads
from services.ad_triage.tools.generate_ads import CITIES, generate, main, obfuscate

from .conftest import pseudonymise


def run(tmp_path, *args: str) -> str:
    out = tmp_path / "ads.out"
    assert main([*args, "--out", str(out)]) == 0
    return out.read_text(encoding="utf-8")


def test_same_seed_same_output_other_seed_other_output(tmp_path):
    assert run(tmp_path, "--count", "50", "--seed", "7") == run(tmp_path, "--count", "50", "--seed", "7")
    assert run(tmp_path, "--count", "50", "--seed", "7") != run(tmp_path, "--count", "50", "--seed", "8")


@pytest.mark.parametrize("fmt,parser", [("jsonl", parse_jsonl), ("csv", parse_csv)])
def test_output_parses_and_exactly_the_requested_records_are_malformed(tmp_path, fmt, parser):
    text = run(tmp_path, "--count", "300", "--seed", "7", "--format", fmt, "--malformed", "12")
    results = list(parser(io.StringIO(text)))
    assert len(results) == 300
    rejected = [r for _, r in results if isinstance(r, RecordRejected)]
    assert len(rejected) == 12 and all(r.reasons for r in rejected)
    ads = [r for _, r in results if isinstance(r, Ad)]
    assert len({ad.key for ad in ads}) == len(ads) == 288


def test_ads_are_realistic_danish_and_english_with_networks(tmp_path):
    ads = [r for _, r in parse_jsonl(run(tmp_path, "--count", "400", "--seed", "7").splitlines())]
    assert {ad.language for ad in ads} == {"da", "en"}
    assert {ad.location for ad in ads} & set(CITIES)
    phones = [normalise_contact(c.kind, c.value) for ad in ads for c in ad.contacts if c.kind in ("phone", "whatsapp")]
    assert any(p.obfuscated for p in phones) and not all(p.obfuscated for p in phones)
    cities_per_phone: dict[str, set] = {}
    for ad in ads:
        for c in ad.contacts:
            if c.kind in ("phone", "whatsapp"):
                cities_per_phone.setdefault(normalise_contact(c.kind, c.value).value, set()).add(ad.location)
    assert max(len(c) for c in cities_per_phone.values()) >= 3  # one phone advertised across several cities
    assert Counter(len(c) for c in cities_per_phone.values())[1] > 0  # and ordinary single-city authors


def test_every_generated_number_is_valid_and_from_the_fictional_blocks(tmp_path):
    for line in run(tmp_path, "--count", "200", "--seed", "1").splitlines():
        for contact in json.loads(line)["contacts"]:
            if contact["kind"] in ("phone", "whatsapp"):
                number = normalise_contact(contact["kind"], contact["value"]).value
                assert phonenumbers.is_valid_number(phonenumbers.parse(number))
                assert number.startswith(("+452999", "+4072999", "+4860999", "+6689912", "+35988999"))


@pytest.mark.parametrize("style", ["plain", "spaced", "dotted", "words", "mixed", "keycap", "fullwidth", "lookalike"])
@pytest.mark.parametrize("e164", ["+4529991034", "+40729991234"])
def test_every_obfuscation_style_round_trips(style, e164):
    result = normalise_contact("phone", obfuscate(e164, style, "da"))
    assert result.value == e164 and result.obfuscated == (style != "plain")


def test_some_ads_give_their_number_only_in_the_text_and_it_links_them(tmp_path):
    ads = [r for _, r in parse_jsonl(run(tmp_path, "--count", "600", "--seed", "3").splitlines())]
    text_only = [ad for ad in ads if not any(c.kind in PHONE_KINDS for c in ad.contacts)]
    assert 0.1 < len(text_only) / len(ads) < 0.4  # a share of them, as in scraped data
    stored = [to_stored(ad, pseudonymise) for ad in ads]
    from_field = {c.pseudonym for ad in stored for c in ad.contacts if c.source == "field"}
    in_text = [[c for c in to_stored(ad, pseudonymise).contacts if c.kind in PHONE_KINDS] for ad in text_only]
    assert all(len(found) == 1 and found[0].source == "text" and found[0].obfuscated for found in in_text)
    assert sum(found[0].pseudonym in from_field for found in in_text) > len(text_only) / 2  # networks link up


def test_text_only_ads_change_nothing_but_their_contacts_and_text(monkeypatch):
    """They are drawn from a stream of their own: a seed that tests and benchmarks rely on keeps its ads."""
    with_text_only = generate(300, 7)
    monkeypatch.setattr(generate_ads, "TEXT_ONLY_SHARE", 0.0)
    without = generate(300, 7)
    changed = [(a, b) for a, b in zip(with_text_only, without) if a != b]
    assert changed and all(len(a["contacts"]) == len(b["contacts"]) - 1 for a, b in changed)
    for a, b in changed:
        assert {k: v for k, v in a.items() if k not in ("contacts", "text")} == \
            {k: v for k, v in b.items() if k not in ("contacts", "text")}


def test_bad_arguments_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["--count", "0"])
    assert "--count must be at least 1" in capsys.readouterr().err
