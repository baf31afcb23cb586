from datetime import timedelta

import pytest

from services.ad_triage.domain.records import Contact, Price, RecordRejected, parse_record

from .conftest import raw_ad


def reasons_for(**overrides) -> list[str]:
    with pytest.raises(RecordRejected) as caught:
        parse_record(raw_ad(**overrides))
    return caught.value.reasons


def test_valid_record_parses_into_ad_with_identity_key():
    ad = parse_record(raw_ad())
    assert ad.key == ("dkescort.example", "1")
    assert ad.contacts == (Contact("phone", "29 99 12 34"),)
    assert ad.price == Price(1000, "DKK")
    assert ad.image_hashes == ("07f062cec7b317d9",)
    assert ad.last_seen - ad.first_seen == timedelta(days=2)


def test_optional_fields_may_be_absent():
    ad = parse_record(raw_ad(price=None, imageHashes=None, title=None))
    assert ad.price is None and ad.image_hashes == () and ad.title == ""


def test_every_problem_is_listed_with_its_field():
    reasons = reasons_for(
        adId=None, url="annonce 7", lastSeen="2016-04-01T10:00:00+00:00", language="dansk", location="",
        contacts=[{"kind": "phone", "value": "1"}, {"kind": "phone", "value": "  "}, {"kind": "fax", "value": "x"}],
        price={"amount": -1, "currency": "kr"}, imageHashes=["zz", "data:image/png;base64,AAAA"],
    )
    assert reasons == [
        "adId: missing",
        "url: must be an absolute http(s) URL",
        "lastSeen: before firstSeen",
        "language: must be a two-letter lowercase ISO 639-1 code such as da or en",
        "location: empty",
        "contacts[1].value: empty",
        "contacts[2].kind: unknown kind (allowed: email, instagram, kik, line, phone, signal, snapchat, telegram, "
        "wechat, whatsapp)",
        "price.amount: must be a non-negative integer",
        "price.currency: must be a three-letter ISO 4217 code such as DKK",
        "imageHashes[0]: not a hex perceptual hash (16-64 hex digits)",
        "imageHashes[1]: looks like image data; only perceptual hashes are accepted",
    ]


def test_unknown_fields_are_refused_so_personal_data_cannot_slip_in():
    assert reasons_for(name="Anna Hansen") == ["name: unexpected field"]


def test_datetimes_must_be_iso_and_carry_an_offset():
    assert reasons_for(firstSeen="1 May 2016") == ["firstSeen: not an ISO 8601 datetime"]
    assert reasons_for(lastSeen="2016-05-03T10:00:00") == ["lastSeen: missing timezone offset"]


def test_z_suffix_is_accepted_as_utc():
    assert parse_record(raw_ad(firstSeen="2016-05-01T10:00:00Z")).first_seen.utcoffset() == timedelta(0)


def test_wrong_types_are_reported_not_crashed_on():
    assert reasons_for(text=5, contacts="phone") == ["text: must be a string, got int", "contacts: must be a list"]
    assert reasons_for(price={"amount": True, "currency": "DKK"}) == ["price.amount: must be a non-negative integer"]


def test_non_object_record_is_rejected():
    with pytest.raises(RecordRejected, match="record: must be a JSON object, got list"):
        parse_record([1, 2])


def test_reasons_never_quote_contact_values():
    reasons = reasons_for(contacts=[{"kind": "pager", "value": "29 99 12 34"}])
    assert not any("29 99" in reason for reason in reasons)


def test_image_hashes_are_lower_cased():
    assert parse_record(raw_ad(imageHashes=["07F062CEC7B317D9"])).image_hashes == ("07f062cec7b317d9",)
