"""Settings refuse unsafe starts; one function turns the Kafka security settings into aiokafka's arguments."""

from typing import Any

import aiokafka.helpers
import pytest
from pydantic import ValidationError

from contracts.auth import Scope, describe, new_key
from services.projection.adapters.kafka_security import kafka_client_options
from services.projection.settings import ProjectionSettings

PRODUCTION = {"environment": "production", "database_url": "postgresql+asyncpg://db/rapport", "kafka_idempotence": True}
SASL = {"kafka_sasl_mechanism": "SCRAM-SHA-512", "kafka_sasl_username": "projection", "kafka_sasl_password": "pw"}


def settings(**values: Any) -> ProjectionSettings:
    return ProjectionSettings(_env_file=None, **values)  # type: ignore[call-arg]


def test_production_without_api_keys_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match="RAPPORT_PROJECTION_API_KEYS"):
        settings(**PRODUCTION)
    key = describe("crm", new_key(), [Scope.VIEWS_READ])
    assert [k.name for k in settings(**PRODUCTION, api_keys=key).keys()] == ["crm"]


def test_a_malformed_key_list_refuses_to_start_without_echoing_it() -> None:
    with pytest.raises(ValidationError, match="RAPPORT_PROJECTION_API_KEYS") as refused:
        settings(api_keys="crm:not-a-digest:views:read")
    assert "not-a-digest" not in str(refused.value)


def test_the_key_list_never_shows_in_the_settings_repr() -> None:
    key = describe("crm", new_key(), [Scope.VIEWS_READ])
    assert key.split(":")[1] not in repr(settings(api_keys=key))


def test_plaintext_by_default() -> None:
    assert kafka_client_options(settings(kafka_bootstrap="k:9092")) == {
        "bootstrap_servers": "k:9092", "security_protocol": "PLAINTEXT",
    }  # fmt: skip


@pytest.mark.parametrize("protocol", ["SASL_SSL", "SASL_PLAINTEXT"])
def test_sasl_without_credentials_is_refused(protocol: str) -> None:
    for missing in SASL:
        values = {**SASL, missing: None}
        with pytest.raises(ValidationError, match="SASL"):
            settings(kafka_security_protocol=protocol, **values)


def test_sasl_settings_without_a_sasl_protocol_are_refused() -> None:
    with pytest.raises(ValidationError, match="SASL_SSL"):
        settings(**SASL)
    with pytest.raises(ValidationError, match="CAFILE"):
        settings(kafka_ssl_cafile="/etc/ca.pem")


def test_sasl_over_tls_maps_to_scram_with_a_verifying_context(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str | None] = []
    monkeypatch.setattr(aiokafka.helpers, "create_ssl_context", lambda cafile=None: made.append(cafile) or "context")
    options = kafka_client_options(settings(kafka_security_protocol="SASL_SSL", kafka_ssl_cafile="/ca.pem", **SASL))
    assert options == {
        "bootstrap_servers": "127.0.0.1:9092", "security_protocol": "SASL_SSL", "ssl_context": "context",
        "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "projection", "sasl_plain_password": "pw",
    }  # fmt: skip
    assert made == ["/ca.pem"]


def test_tls_alone_and_sasl_without_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aiokafka.helpers, "create_ssl_context", lambda cafile=None: f"context:{cafile}")
    tls = kafka_client_options(settings(kafka_security_protocol="SSL"))
    assert tls["ssl_context"] == "context:None" and "sasl_mechanism" not in tls
    plain = kafka_client_options(
        settings(kafka_security_protocol="SASL_PLAINTEXT", **{**SASL, "kafka_sasl_mechanism": "PLAIN"})
    )
    assert "ssl_context" not in plain and plain["sasl_mechanism"] == "PLAIN"


def test_a_real_tls_context_verifies_the_broker() -> None:
    context = kafka_client_options(settings(kafka_security_protocol="SSL"))["ssl_context"]
    assert context.check_hostname is True


def test_empty_environment_values_count_as_unset() -> None:
    assert settings(api_keys="", kafka_sasl_username="").keys() == []


def test_a_refusal_never_prints_the_sasl_password() -> None:
    with pytest.raises(ValidationError) as refused:
        settings(kafka_security_protocol="SASL_SSL", kafka_sasl_password="hunter2-secret")
    assert "hunter2" not in str(refused.value)
