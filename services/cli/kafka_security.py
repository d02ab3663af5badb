"""How the operator commands (status, tail, dlq replay, emit --via kafka) authenticate to and encrypt with Kafka.

The choices are the services' own, read from `RAPPORT_KAFKA_SECURITY_PROTOCOL`, `_SASL_MECHANISM`,
`_SASL_USERNAME`, `_SASL_PASSWORD` and `_SSL_CAFILE` (environment only, so a password never shows in `ps` or a
shell history); unset, PLAINTEXT, as the embedded broker of `rapport dev` wants. The mapping to aiokafka's
arguments is the experience service's `KafkaSecurity`, so the command line and the services cannot drift.
"""

from typing import Any

import typer
from pydantic import SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.experience.adapters.kafka_security import KafkaSecurity
from services.experience.settings import SaslMechanism, SecurityProtocol

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
        sasl = self.security_protocol.startswith("SASL_")
        if sasl and not (self.sasl_mechanism and self.sasl_username and self.sasl_password):
            raise ValueError(
                f"{PREFIX}SECURITY_PROTOCOL={self.security_protocol} needs {PREFIX}SASL_MECHANISM, "
                f"{PREFIX}SASL_USERNAME and {PREFIX}SASL_PASSWORD"
            )
        if not sasl and (self.sasl_mechanism or self.sasl_username or self.sasl_password):
            raise ValueError(
                f"SASL settings are given but {PREFIX}SECURITY_PROTOCOL is {self.security_protocol}; "
                "use SASL_SSL (or SASL_PLAINTEXT)"
            )
        if self.ssl_cafile and not self.security_protocol.endswith("SSL"):
            raise ValueError(f"{PREFIX}SSL_CAFILE is set but the security protocol does not use TLS")
        return self

    def security(self) -> KafkaSecurity:
        password = self.sasl_password
        return KafkaSecurity(
            protocol=self.security_protocol,
            sasl_mechanism=self.sasl_mechanism,
            username=self.sasl_username,
            password=None if password is None else password.get_secret_value(),
            cafile=self.ssl_cafile,
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
