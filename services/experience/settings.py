"""Every setting of the experience service, read once from `RAPPORT_EXPERIENCE_*` environment variables."""

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import topics
from contracts.auth import ApiKey, ApiKeyConfigError, parse_keys
from services.common.kafka_security import SaslMechanism, SecurityProtocol, check_kafka_security

_MIN_KEY_LENGTH = 32
_DEVELOPMENT_IDENTITY_KEY = b"rapport-development-identity-hash-key-not-secret"


class ExperienceSettings(BaseSettings):
    """Validated at start; production refuses the conveniences that only suit the embedded broker."""

    model_config = SettingsConfigDict(env_prefix="RAPPORT_EXPERIENCE_", frozen=True)

    environment: Literal["development", "production"] = "development"
    database_url: str = Field(description="postgresql+asyncpg://user:password@host/db")
    kafka_bootstrap: str = "127.0.0.1:9092"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    max_batch_events: int = Field(default=1000, gt=0)
    relay_batch_size: int = Field(default=2000, gt=0)
    # A safety net only: the relay is woken by its own process's hand-over and by a NOTIFY at every other append's
    # commit. Polling often raced the hand-over, reading back from the store a batch about to arrive in memory.
    relay_poll_interval_s: float = Field(default=1.0, gt=0)
    # The embedded broker (Tansu) has no idempotent producer; real Kafka should always have it on.
    kafka_idempotence: bool = False
    kafka_linger_ms: int = Field(default=5, ge=0)
    # Kafka client security, the same for every client the service makes (intake consumer, producer, relay).
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None  # PEM; without it, TLS trusts the system's CAs
    intake_group_id: str = "rapport-experience-intake"
    intake_max_records: int = Field(default=2000, gt=0)
    intake_topic: str = topics.INTAKE
    intake_dlq_topic: str = topics.INTAKE_DLQ
    events_topic: str = topics.EVENTS
    database_pool_size: int = Field(default=10, gt=0)
    # The secret of the keyed hash identities are stored as. Changing it orphans every identity link.
    identity_hash_key: SecretStr | None = None
    # cx.intake.v1 is open to any producer; turn this off to accept erasures only through the HTTP API.
    intake_accepts_erasure: bool = True
    # Hashed API keys, `name:sha256hex:scope+scope,...` (contracts.auth). Hashes, yet kept out of logs all the same.
    api_keys: SecretStr | None = None
    # Per key and per process: a token bucket refilled at `rate_limit_per_s`, holding at most `rate_limit_burst`.
    rate_limit_per_s: float = Field(default=200.0, gt=0)
    rate_limit_burst: int = Field(default=400, ge=1)
    readiness_broker_cache_s: float = Field(default=2.0, ge=0)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # How long each step of shutting down (background tasks, the intake consumer, the producer) may take.
    shutdown_step_s: float = Field(default=10.0, gt=0)

    @field_validator(
        "kafka_sasl_mechanism",
        "kafka_sasl_username",
        "kafka_sasl_password",
        "kafka_ssl_cafile",
        "api_keys",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # docker-compose passes `${VAR:-}` as an empty string when the variable is not set
        return None if value == "" else value

    @model_validator(mode="after")
    def _consistent(self) -> "ExperienceSettings":
        self.keys()  # a malformed key list stops the start with the entry it cannot read
        self._check_kafka_security()
        if self.environment == "production":
            self._check_production()
        return self

    def _check_kafka_security(self) -> None:
        check_kafka_security(
            "RAPPORT_EXPERIENCE_KAFKA_", self.kafka_security_protocol, self.kafka_sasl_mechanism,
            self.kafka_sasl_username, self.kafka_sasl_password, self.kafka_ssl_cafile,
        )  # fmt: skip

    def _check_production(self) -> None:
        if not self.kafka_idempotence:
            raise ValueError("production needs RAPPORT_EXPERIENCE_KAFKA_IDEMPOTENCE=true (real Kafka supports it)")
        key = self.identity_hash_key
        if key is None or len(key.get_secret_value()) < _MIN_KEY_LENGTH:
            raise ValueError(
                f"production needs RAPPORT_EXPERIENCE_IDENTITY_HASH_KEY: a secret of at least {_MIN_KEY_LENGTH} "
                "characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`), kept for good"
            )
        if not self.keys():
            raise ValueError(
                "production needs RAPPORT_EXPERIENCE_API_KEYS: hashed keys as `name:sha256hex:scope+scope,...` "
                "(make one with `python -c 'from contracts.auth import *; k = new_key(); "
                'print(k, describe("name", k, [Scope.EVENTS_WRITE]))\'`); refusing to run without authentication'
            )

    def keys(self) -> list[ApiKey]:
        """The configured API keys; none means authentication is off (development only)."""
        if self.api_keys is None:
            return []
        try:
            return parse_keys(self.api_keys.get_secret_value())
        except ApiKeyConfigError as error:
            raise ValueError(f"RAPPORT_EXPERIENCE_API_KEYS: {error}") from None

    def identity_key(self) -> bytes:
        """The identity hash key; in development a fixed one, so links survive restarts of `rapport dev`."""
        if self.identity_hash_key is None:
            return _DEVELOPMENT_IDENTITY_KEY
        return self.identity_hash_key.get_secret_value().encode()
