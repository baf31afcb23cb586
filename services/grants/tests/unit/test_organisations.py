import pytest
from hypothesis import given, strategies as st

from services.grants.domain.errors import InvalidCvr, InvalidInput, UnknownOrganisation
from services.grants.domain.organisations import (Directory, Organisation, Role, cvr_is_valid, org_id_from_cvr,
                                                  parse_org_id)


def test_the_ministry_cvr_is_valid():
    # 2*2 + 0*7 + 4*6 + 5*5 + 3*4 + 0*3 + 4*2 + 4*1 = 77 = 7 * 11
    assert cvr_is_valid("20453044")
    assert parse_org_id("DK-CVR-20453044") == "DK-CVR-20453044"


@pytest.mark.parametrize("digits", ["20453045", "20453043", "20453054", "12345678"])
def test_a_wrong_check_digit_fails(digits):
    assert not cvr_is_valid(digits)
    with pytest.raises(InvalidCvr, match="modulus-11") as err:
        parse_org_id("DK-CVR-" + digits)
    assert err.value.code == "invalid_cvr"


def test_leading_zero_is_refused_even_when_the_sum_divides():

    zero_led = "01000004"  # 0*2 + 1*7 + 4*1 = 11
    assert sum(int(d) * w for d, w in zip(zero_led, (2, 7, 6, 5, 4, 3, 2, 1))) % 11 == 0
    assert not cvr_is_valid(zero_led)


@pytest.mark.parametrize("value", ["20453044", "DK-CVR-2045304", "DK-CVR-204530440", "dk-cvr-20453044",
                                   "DK-CVR-2045304a", "DK-CVR-２０４５３０４４", None, 20453044])
def test_malformed_ids_are_refused(value):
    with pytest.raises(InvalidCvr):
        parse_org_id(value)


def test_cvr_as_people_write_it():
    assert org_id_from_cvr("20-45-30-44") == "DK-CVR-20453044"
    assert org_id_from_cvr("20 45 30 44") == "DK-CVR-20453044"
    with pytest.raises(InvalidCvr):
        org_id_from_cvr("20-45-30-45")


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_check_matches_the_definition(digits):
    expected = digits[0] != "0" and sum(int(d) * w for d, w in zip(digits, (2, 7, 6, 5, 4, 3, 2, 1))) % 11 == 0
    assert cvr_is_valid(digits) is expected


def _with_check_digit(first_seven: str) -> str | None:
    rest = -sum(int(d) * w for d, w in zip(first_seven, (2, 7, 6, 5, 4, 3, 2))) % 11
    return None if rest == 10 else first_seven + str(rest)


valid_cvrs = st.integers(1_000_000, 9_999_999).map(lambda n: _with_check_digit(str(n))).filter(bool)


@given(valid_cvrs, st.integers(0, 7), st.integers(1, 9))
def test_changing_one_digit_breaks_the_check(digits, position, delta):
    # weights are all below 11 and non-zero, so a single changed digit always changes the sum mod 11
    changed = digits[:position] + str((int(digits[position]) + delta) % 10) + digits[position + 1:]
    assert not cvr_is_valid(changed)


def test_organisation_roles_and_validation():
    university = Organisation("DK-CVR-11234569", "A University", {"knowledge_institution"})
    assert university.has_role(Role.KNOWLEDGE_INSTITUTION)
    assert not university.has_role(Role.APPLICANT)
    assert university.cvr == "11234569"
    with pytest.raises(InvalidCvr):
        Organisation("DK-CVR-11234568", "Bad check digit")
    with pytest.raises(InvalidInput, match="roles"):
        Organisation("DK-CVR-11234569", "X", {"sponsor"})
    with pytest.raises(InvalidInput, match="name"):
        Organisation("DK-CVR-11234569", "  ")


def test_directory_lookup():
    directory = Directory([Organisation("DK-CVR-20453044", "Ministry", {Role.FUNDER})])
    assert directory.get("DK-CVR-20453044").name == "Ministry"
    assert "DK-CVR-20453044" in directory
    with pytest.raises(UnknownOrganisation, match="DK-CVR-10000009") as err:
        directory.get("DK-CVR-10000009", field="applicant")
    assert err.value.code == "unknown_organisation"
    assert "applicant" in str(err.value)
