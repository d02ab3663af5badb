"""Kafka security settings become the same client options for aiokafka and FastStream; bad combinations refuse
to start."""

import ssl

import certifi
import pytest
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLScram512
from pydantic import ValidationError

from services.common.kafka_security import KafkaSecurity
from services.experience.bootstrap import kafka_security
from services.experience.settings import ExperienceSettings

URL = "postgresql+asyncpg://u@h/db"


def test_plaintext_adds_nothing() -> None:
    security = KafkaSecurity()

    assert security.client_options() == {"security_protocol": "PLAINTEXT"}
    assert security.faststream() is None


@pytest.mark.parametrize(
    ("protocol", "mechanism"),
    [("SASL_SSL", "SCRAM-SHA-512"), ("SASL_SSL", "SCRAM-SHA-256"), ("SASL_PLAINTEXT", "PLAIN"), ("SSL", None)],
)
def test_aiokafka_and_faststream_get_the_same_options(protocol: str, mechanism: str | None) -> None:
    sasl = mechanism is not None
    security = KafkaSecurity(
        protocol,
        mechanism,
        "rapport" if sasl else None,
        "s3cret" if sasl else None,
        certifi.where() if protocol.endswith("SSL") else None,
    )

    options = security.client_options()
    from_faststream = parse_security(security.faststream())

    assert options["security_protocol"] == protocol == from_faststream["security_protocol"]
    assert isinstance(options.get("ssl_context"), ssl.SSLContext) == protocol.endswith("SSL")
    for name in ("sasl_mechanism", "sasl_plain_username", "sasl_plain_password"):
        assert options.get(name) == from_faststream.get(name)
    if sasl:
        assert (options["sasl_mechanism"], options["sasl_plain_username"]) == (mechanism, "rapport")


def test_tls_verifies_the_broker_against_the_given_ca() -> None:
    context = KafkaSecurity("SSL", cafile=certifi.where()).ssl_context()

    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_settings_map_to_the_helper_keeping_the_password_secret() -> None:
    settings = ExperienceSettings(
        database_url=URL,
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="rapport",
        kafka_sasl_password="s3cret-password",
        kafka_ssl_cafile=certifi.where(),
    )

    security = kafka_security(settings)

    assert security.password == "s3cret-password" and "s3cret-password" not in repr(settings)
    assert isinstance(security.faststream(), SASLScram512)
    assert type(KafkaSecurity("SSL").faststream()) is BaseSecurity


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "SCRAM-SHA-512"}, "SASL_USERNAME"),
        (
            {"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_username": "u", "kafka_sasl_password": "p"},
            "SASL_MECHANISM",
        ),
        ({"kafka_sasl_mechanism": "PLAIN", "kafka_sasl_username": "u", "kafka_sasl_password": "p"}, "SASL_SSL"),
        ({"kafka_ssl_cafile": "/ca.pem"}, "does not use TLS"),
        ({"kafka_security_protocol": "SASL_SCRAM"}, "kafka_security_protocol"),
    ],
)
def test_incomplete_or_contradictory_security_refuses_to_start(settings: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ExperienceSettings(database_url=URL, **settings)


def test_empty_variables_as_compose_passes_them_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_SSL_CAFILE"):
        monkeypatch.setenv(f"RAPPORT_EXPERIENCE_{name}", "")

    settings = ExperienceSettings(database_url=URL)

    assert kafka_security(settings) == KafkaSecurity()
