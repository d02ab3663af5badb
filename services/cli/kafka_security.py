"""How the operator commands (status, tail, dlq replay, emit --via kafka) authenticate to and encrypt with Kafka.

The choices are the services' own, read from `RAPPORT_KAFKA_SECURITY_PROTOCOL`, `_SASL_MECHANISM`,
`_SASL_USERNAME`, `_SASL_PASSWORD` and `_SSL_CAFILE` (environment only, so a password never shows in `ps` or a
shell history); unset, PLAINTEXT, as the embedded broker of `rapport dev` wants. The mapping to aiokafka's
arguments and the checks are the services' own (`services/common/kafka_security.py`), so the command line and the
services cannot drift.
"""

from typing import Any

import typer
from pydantic import SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.kafka_security import KafkaSecurity, SaslMechanism, SecurityProtocol, check_kafka_security

PREFIX = "RAPPORT_KAFKA_"
PLAINTEXT = KafkaSecurity()  # the default of every command: what the embedded broker speaks


class CliKafkaSettings(BaseSettings):
    """Validated as the services' settings are: SASL needs mechanism, user and password; a CA file needs TLS."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, frozen=True)

    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None  # PEM; without it, TLS trusts the system's CAs

    @field_validator("sasl_mechanism", "sasl_username", "sasl_password", "ssl_cafile", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _consistent(self) -> "CliKafkaSettings":
        check_kafka_security(
            PREFIX, self.security_protocol, self.sasl_mechanism, self.sasl_username, self.sasl_password,
            self.ssl_cafile,
        )  # fmt: skip
        return self

    def security(self) -> KafkaSecurity:
        return KafkaSecurity.of(
            self.security_protocol, self.sasl_mechanism, self.sasl_username, self.sasl_password, self.ssl_cafile
        )


def kafka_security() -> KafkaSecurity:
    """The operator's Kafka security from the environment; a usage error (exit 2) says what is wrong."""
    try:
        return CliKafkaSettings().security()
    except ValidationError as error:
        reasons = "; ".join(_reason(e) for e in error.errors())
        raise typer.BadParameter(reasons, param_hint=f"{PREFIX}*") from None


def _reason(error: Any) -> str:
    where = "".join(str(part) for part in error["loc"]).upper()
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{PREFIX}{where}: {message}" if where else message
