import base64

import pytest

from kit.settings import SettingsError, load

KEY = "1R4mQb9aT0m+8r6x0cK3sV2yP7wLzE5hJ1nG4uD8fAo="  # a fixed random key: low-entropy ones are refused


def test_local_defaults_work_without_any_environment():
    settings = load("grants", env={})
    assert settings.amqp_uri.startswith("amqp://")
    assert settings.kafka_bootstrap == "127.0.0.1:19092"  # the embedded stack of `make run`
    assert settings.mongo_uri == "mongodb://127.0.0.1:27018/"
    assert settings.database == "actionplan_grants"
    assert settings.topic("grants.applications") == "grants.applications"


def test_topic_prefix_isolates_topics():
    assert load("grants", env={"KAFKA_TOPIC_PREFIX": "t1"}).topic("grants.ledger") == "t1.grants.ledger"


def test_missing_required_setting_names_the_variable():
    with pytest.raises(SettingsError, match="PSEUDONYM_KEY is required"):
        load("ad_triage", env={}, required=("pseudonym_key",))


@pytest.mark.parametrize("name, value, expected", [
    ("AMQP_URI", "http://localhost", "AMQP_URI: expected a amqp/amqps URL"),
    ("KAFKA_BOOTSTRAP_SERVERS", "localhost", "KAFKA_BOOTSTRAP_SERVERS: expected host:port"),
    ("RPC_TIMEOUT_SECONDS", "-1", "RPC_TIMEOUT_SECONDS: must be greater than 0"),
    ("RPC_TIMEOUT_SECONDS", "soon", "RPC_TIMEOUT_SECONDS"),
    ("TRACE_EXPORTER", "jaeger", "TRACE_EXPORTER: must be one of none, otlp, console"),
    ("PSEUDONYM_KEY", base64.b64encode(b"short").decode(), "PSEUDONYM_KEY: must decode to at least 32 bytes"),
    ("PSEUDONYM_KEY", "%%%", "PSEUDONYM_KEY: must be base64"),
    ("MONGO_DB_PREFIX", "a b", "MONGO_DB_PREFIX: must be letters"),
])
def test_malformed_setting_fails_with_its_name(name, value, expected):
    with pytest.raises(SettingsError, match=expected.replace("(", r"\(")):
        load("grants", env={name: value})


def test_every_problem_is_reported_at_once():
    with pytest.raises(SettingsError) as raised:
        load("grants", env={"AMQP_URI": "x", "GATEWAY_PORT": "0"})
    assert "AMQP_URI" in str(raised.value) and "GATEWAY_PORT" in str(raised.value)


def test_require_names_the_variable_when_a_setting_is_needed_later():
    settings = load("grants", env={})
    with pytest.raises(SettingsError, match="NOTES_ENCRYPTION_KEY is required by grants"):
        settings.require("notes_key")
    assert load("grants", env={"NOTES_ENCRYPTION_KEY": KEY}).require("notes_key") == base64.b64decode(KEY)
