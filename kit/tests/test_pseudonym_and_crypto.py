import pytest
from cryptography.exceptions import InvalidTag

from kit.fieldcrypt import FieldCipher
from kit.pseudonym import Pseudonymiser

KEY = b"k" * 32


def test_pseudonym_is_stable_and_hides_the_value():
    p = Pseudonymiser(KEY)
    first = p.pseudonymise("ad-linkage", "+4529991234")
    assert first == p.pseudonymise("ad-linkage", "+4529991234")
    assert "29991234" not in first and first.startswith("p1:ad-linkage:")


def test_purposes_do_not_link():
    p = Pseudonymiser(KEY)
    assert p.pseudonymise("ad-linkage", "+4529991234") != p.pseudonymise("case-linkage", "+4529991234")


def test_a_different_key_gives_different_pseudonyms():
    # a plain hash would let anyone enumerate the phone number space; a keyed one needs the key
    assert Pseudonymiser(KEY).pseudonymise("ad-linkage", "x") != Pseudonymiser(b"j" * 32).pseudonymise("ad-linkage", "x")


def test_bad_key_purpose_and_value_are_refused():
    with pytest.raises(ValueError, match="at least 32 bytes"):
        Pseudonymiser(b"short")
    with pytest.raises(ValueError, match="purpose"):
        Pseudonymiser(KEY).pseudonymise("Ad Linkage", "x")
    with pytest.raises(ValueError, match="non-empty string"):
        Pseudonymiser(KEY).pseudonymise("ad-linkage", "")
    assert "k" * 8 not in repr(Pseudonymiser(KEY))


def test_field_cipher_round_trip_and_binding_to_its_record():
    cipher = FieldCipher(KEY)
    token = cipher.encrypt("she said the passport was taken", "applications/app-1")
    assert "passport" not in token
    assert cipher.decrypt(token, "applications/app-1") == "she said the passport was taken"
    with pytest.raises(InvalidTag):
        cipher.decrypt(token, "applications/app-2")  # copied onto another record: refused
