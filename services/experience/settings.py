"""Every setting of the experience service, read once from `RAPPORT_EXPERIENCE_*` environment variables."""

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import topics

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
    relay_poll_interval_s: float = Field(default=0.05, gt=0)
    # The embedded broker (Tansu) has no idempotent producer; real Kafka should always have it on.
    kafka_idempotence: bool = False
    kafka_linger_ms: int = Field(default=5, ge=0)
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

    @model_validator(mode="after")
    def _safe_in_production(self) -> "ExperienceSettings":
        if self.environment != "production":
            return self
        if not self.kafka_idempotence:
            raise ValueError("production needs RAPPORT_EXPERIENCE_KAFKA_IDEMPOTENCE=true (real Kafka supports it)")
        key = self.identity_hash_key
        if key is None or len(key.get_secret_value()) < _MIN_KEY_LENGTH:
            raise ValueError(
                f"production needs RAPPORT_EXPERIENCE_IDENTITY_HASH_KEY: a secret of at least {_MIN_KEY_LENGTH} "
                "characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`), kept for good"
            )
        return self

    def identity_key(self) -> bytes:
        """The identity hash key; in development a fixed one, so links survive restarts of `rapport dev`."""
        if self.identity_hash_key is None:
            return _DEVELOPMENT_IDENTITY_KEY
        return self.identity_hash_key.get_secret_value().encode()
