"""Key settings: weak or shared keys are refused at start-up naming the variable, no key is ever printed, a process
reads only the keys it declares, and encrypted fields carry a key id so the notes key can rotate."""
import base64
import os

import pytest
from cryptography.exceptions import InvalidTag

from kit.fieldcrypt import FieldCipher
from kit.settings import SettingsError, key_fields, load


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def fresh() -> str:
    return b64(os.urandom(32))


@pytest.mark.parametrize("raw, why", [
    (b"k" * 32, "every byte is the same"),
    (b"ab" * 16, "pattern of 2 bytes"),
    (b"secret12" * 4, "pattern of 8 bytes"),
    (bytes(range(32)), "low entropy"),
    (b"aaaabbbbccccddddaaaabbbbccccdddd", "low entropy"),
    (b"short", "at least 32 bytes"),
])
@pytest.mark.parametrize("variable", ["PSEUDONYM_KEY", "NOTES_ENCRYPTION_KEY", "CONNECTOR_SIGNING_KEY"])
def test_weak_keys_are_refused_naming_the_variable(variable, raw, why):
    with pytest.raises(SettingsError, match=variable) as refused:
        load("ad_triage", env={variable: b64(raw)})
    assert why in str(refused.value)
    assert b64(raw) not in str(refused.value) and raw.decode(errors="ignore") not in str(refused.value)


def test_a_random_key_is_accepted():
    assert len(load("ad_triage", env={"PSEUDONYM_KEY": fresh()}).require("pseudonym_key")) == 32


def test_one_key_for_two_purposes_is_refused_naming_both():
    key = fresh()
    with pytest.raises(SettingsError, match="NOTES_ENCRYPTION_KEY uses the same key as PSEUDONYM_KEY"):
        load("ad_triage", env={"PSEUDONYM_KEY": key, "NOTES_ENCRYPTION_KEY": key})
    with pytest.raises(SettingsError, match="same key"):  # also when it hides among the retired notes keys
        load("ad_triage", env={"PSEUDONYM_KEY": key, "NOTES_ENCRYPTION_KEY": f"{fresh()},{key}"})


def test_settings_never_print_key_material():
    keys = {"PSEUDONYM_KEY": fresh(), "NOTES_ENCRYPTION_KEY": f"n2:{fresh()},n1:{fresh()}",
            "CONNECTOR_SIGNING_KEY": fresh()}
    settings = load("ad_triage", env=keys)
    shown = repr(settings) + str(settings) + f"{settings.pseudonym_key} {settings.notes_key!r}"
    shown += repr(settings.notes_key.retired) + repr(FieldCipher(settings.notes_key))
    for value in keys.values():
        for part in value.split(","):
            material = base64.b64decode(part.rpartition(":")[2])
            assert part.rpartition(":")[2] not in shown and repr(material)[2:-1] not in shown
            assert material.hex() not in shown
    assert "key hidden" in shown


def test_a_bad_key_error_quotes_nothing_of_it():
    almost = "A" * 43 + "%"  # not base64
    with pytest.raises(SettingsError) as refused:
        load("ad_triage", env={"PSEUDONYM_KEY": almost})
    assert almost not in str(refused.value) and "PSEUDONYM_KEY: must be base64" in str(refused.value)


def test_a_process_reads_only_the_keys_it_declares():
    env = {"PSEUDONYM_KEY": fresh(), "NOTES_ENCRYPTION_KEY": fresh(), "CONNECTOR_SIGNING_KEY": fresh()}
    gateway = load("gateway", env=env, keys=())
    assert all(getattr(gateway, f) is None for f in key_fields())
    triage = load("ad_triage", env=env, required=("pseudonym_key", "notes_key"), keys=())
    assert triage.pseudonym_key and triage.notes_key and triage.connector_signing_key is None
    evaluation = load("evaluation", env=env, keys=())
    assert evaluation.pseudonym_key is None and evaluation.notes_key is None


def test_the_runner_loads_only_declared_keys_and_drops_them_from_the_environment(monkeypatch):
    import types

    # kit.runner itself is not imported: it monkey-patches the process for eventlet; it calls these two
    from kit.settings import forget_keys, keys_of
    monkeypatch.setattr(os, "environ", {**os.environ, "PSEUDONYM_KEY": fresh(), "NOTES_ENCRYPTION_KEY": fresh()})
    module = types.SimpleNamespace(REQUIRED_SETTINGS=("notes_key",))
    settings = load("grants", required=module.REQUIRED_SETTINGS, keys=keys_of(module))
    forget_keys()
    assert settings.notes_key and settings.pseudonym_key is None
    assert "PSEUDONYM_KEY" not in os.environ and "NOTES_ENCRYPTION_KEY" not in os.environ


def test_encrypted_fields_bind_record_and_field_and_carry_a_key_id():
    settings = load("grants", env={"NOTES_ENCRYPTION_KEY": f"n1:{fresh()}"})
    cipher = FieldCipher(settings.notes_key)
    token = cipher.encrypt("she said the passport was taken", "applications/app-1", "assessment_notes.text")
    assert token.startswith("enc2:n1:")
    assert cipher.decrypt(token, "applications/app-1", "assessment_notes.text") == "she said the passport was taken"
    with pytest.raises(InvalidTag):
        cipher.decrypt(token, "applications/app-2", "assessment_notes.text")  # another record
    with pytest.raises(InvalidTag):
        cipher.decrypt(token, "applications/app-1", "history.reason")  # another field of the same record


def test_rotation_new_key_first_old_values_still_read_and_reseal():
    old, new = fresh(), fresh()
    before = FieldCipher(load("grants", env={"NOTES_ENCRYPTION_KEY": f"n1:{old}"}).notes_key)
    sealed = before.encrypt("note", "applications/a", "assessment_notes.text")
    after = FieldCipher(load("grants", env={"NOTES_ENCRYPTION_KEY": f"n2:{new},n1:{old}"}).notes_key)
    assert after.active_kid == "n2" and after.needs_rotation(sealed)
    assert after.decrypt(sealed, "applications/a", "assessment_notes.text") == "note"
    resealed = after.rotate(sealed, "applications/a", "assessment_notes.text")
    assert resealed.startswith("enc2:n2:") and not after.needs_rotation(resealed)
    only_new = FieldCipher(load("grants", env={"NOTES_ENCRYPTION_KEY": f"n2:{new}"}).notes_key)
    assert only_new.decrypt(resealed, "applications/a", "assessment_notes.text") == "note"
    with pytest.raises(ValueError, match="key 'n1', which is not configured"):
        only_new.decrypt(sealed, "applications/a", "assessment_notes.text")


def test_legacy_enc1_values_still_decrypt():
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    key = os.urandom(32)
    nonce = os.urandom(12)
    legacy = "enc1:" + b64(nonce + AESGCM(key).encrypt(nonce, b"old note", b"applications/a"))
    cipher = FieldCipher(load("grants", env={"NOTES_ENCRYPTION_KEY": f"{fresh()},{b64(key)}"}).notes_key)
    assert cipher.decrypt(legacy, "applications/a", "assessment_notes.text") == "old note"
    assert cipher.needs_rotation(legacy)
    with pytest.raises(ValueError):
        cipher.decrypt(legacy, "applications/b")


def test_key_ids_must_be_unique_and_keys_distinct():
    key = fresh()
    with pytest.raises(SettingsError, match="same key id"):
        load("grants", env={"NOTES_ENCRYPTION_KEY": f"a:{fresh()},a:{fresh()}"})
    with pytest.raises(SettingsError, match="listed twice"):
        load("grants", env={"NOTES_ENCRYPTION_KEY": f"a:{key},b:{key}"})


def test_producer_registry_holds_public_keys_only():
    from kit.signing import Signer
    signer = Signer("crawler-1", os.urandom(32))
    settings = load("ad_triage", env={"AD_TRIAGE_PRODUCERS": f"crawler-1:{signer.public_key()}"})
    assert set(settings.ad_triage_producers) == {"crawler-1"}
    with pytest.raises(SettingsError, match="AD_TRIAGE_PRODUCERS"):
        load("ad_triage", env={"AD_TRIAGE_PRODUCERS": "crawler-1"})
