import pytest
from hypothesis import given, strategies as st

from services.grants.domain.errors import FloatAmount, FractionalOre, GrantsError, InvalidAmount
from services.grants.domain.money import MAX_ORE, format_dkk, parse_ore


@pytest.mark.parametrize("text, ore", [
    ("1250.50", 125050), ("1250.5", 125050), ("1250", 125000), ("0.01", 1), (" 7 ", 700),
    ("1.250,50", 125050), ("1250,50", 125050), ("1250,5", 125050), ("1.250.000", 125000000),
    ("1.250.000,00", 125000000), ("3.500.000,00", 350000000),
])
def test_parses_plain_and_danish_text(text, ore):
    assert parse_ore(text) == ore


def test_int_is_taken_as_ore():
    assert parse_ore(125050) == 125050


@pytest.mark.parametrize("text", ["1.005", "1,005", "0,001", "12.345"])
def test_fractional_ore_is_refused(text):
    with pytest.raises(FractionalOre) as err:
        parse_ore(text)
    assert err.value.code == "fractional_ore"
    assert text in str(err.value)


def test_three_digits_after_a_lone_dot_is_refused_as_ambiguous_not_guessed():
    # '1.250' is 1250 kr in Danish and 1.25 kr in the plain form: neither reading is chosen
    with pytest.raises(FractionalOre, match="1250"):
        parse_ore("1.250")


@pytest.mark.parametrize("value", [1.5, 100.0, float("nan")])
def test_float_gets_its_own_error(value):
    with pytest.raises(FloatAmount) as err:
        parse_ore(value)
    assert err.value.code == "float_amount"
    assert isinstance(err.value, InvalidAmount)


@pytest.mark.parametrize("value", [True, False])
def test_bool_is_not_an_amount(value):
    with pytest.raises(InvalidAmount, match="boolean"):
        parse_ore(value)


@pytest.mark.parametrize("value", [-1, "-5", "-1.250,00"])
def test_negative_is_refused(value):
    with pytest.raises(InvalidAmount, match="negative"):
        parse_ore(value)


@pytest.mark.parametrize("value", [0, "0", "0,00", "0.00"])
def test_zero_is_refused_unless_allowed(value):
    with pytest.raises(InvalidAmount, match="greater than zero"):
        parse_ore(value)
    assert parse_ore(value, allow_zero=True) == 0


@pytest.mark.parametrize("text", ["", "abc", "1,250.50", "12.50.00", "1.2345.678", "1 250", "DKK 5", "١٢", "1e3",
                                  "1.250,", ",5", "5."])
def test_malformed_text_is_refused_naming_the_value(text):
    with pytest.raises(InvalidAmount) as err:
        parse_ore(text)
    assert err.value.code in ("invalid_amount", "fractional_ore")
    assert repr(text) in str(err.value)


def test_other_types_and_oversized_amounts_are_refused():
    from decimal import Decimal
    with pytest.raises(InvalidAmount, match="Decimal"):
        parse_ore(Decimal("1"))
    with pytest.raises(InvalidAmount, match="larger"):
        parse_ore(MAX_ORE + 1)


def test_field_name_is_in_the_message():
    with pytest.raises(GrantsError, match="requested_ore"):
        parse_ore(-3, field="requested_ore")


def test_format():
    assert format_dkk(125050) == "1250.50"
    assert format_dkk(5) == "0.05"
    assert format_dkk(350000000, danish=True) == "3.500.000,00"
    assert format_dkk(-125050, danish=True) == "-1.250,50"
    with pytest.raises(InvalidAmount):
        format_dkk(1.0)


@given(st.integers(min_value=1, max_value=MAX_ORE))
def test_format_and_parse_round_trip(ore):
    assert parse_ore(format_dkk(ore)) == ore
    assert parse_ore(format_dkk(ore, danish=True)) == ore
