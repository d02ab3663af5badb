"""ProjectionSettings: every knob of the read side, from `RAPPORT_PROJECTION_*` environment variables."""

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import topics

DEVELOPMENT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/rapport"


class ProjectionSettings(BaseSettings):
    """Validated once at start; nothing here connects to anything."""

    model_config = SettingsConfigDict(env_prefix="RAPPORT_PROJECTION_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = DEVELOPMENT_DATABASE_URL
    kafka_bootstrap: str = "127.0.0.1:9092"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8081, ge=0, le=65535)
    consumer_group: str = "rapport-projection"
    events_topic: str = topics.EVENTS
    views_topic: str = topics.CUSTOMER_VIEWS
    account_views_topic: str = topics.ACCOUNT_VIEWS
    # Large batches amortise the per-transaction cost; a short wait keeps views fresh under light load.
    batch_max_records: int = Field(default=5000, ge=1)
    batch_timeout_ms: int = Field(default=20, ge=0)
    # The embedded broker has no idempotent producer; real Kafka should turn this on.
    kafka_idempotence: bool = False
    recent_limit: int = Field(default=10, ge=1, le=100)
    negativity_bias: float = Field(default=4.0, ge=1.0)
    half_life_days: float = Field(default=90.0, gt=0)
    # at_risk signals: a run of negative experiences, and a short-memory score falling below the long-run one.
    negative_run: int = Field(default=3, ge=1, le=20)
    falling_half_life_days: float = Field(default=14.0, gt=0)
    falling_drop: float = Field(default=30.0, gt=0, le=200)
    # Account health: a decision maker's score weighs this many times another contact's.
    decision_maker_weight: float = Field(default=2.0, ge=0)
    # Live streams: a client this many changes behind is dropped (it reconnects); comments keep proxies open.
    stream_queue_size: int = Field(default=64, ge=1)
    stream_heartbeat_s: float = Field(default=15.0, gt=0)
    min_position_wait_s: float = Field(default=2.0, ge=0, le=30)

    @model_validator(mode="after")
    def _no_development_database_elsewhere(self) -> "ProjectionSettings":
        if self.environment == "production" and self.database_url == DEVELOPMENT_DATABASE_URL:
            raise ValueError("RAPPORT_PROJECTION_DATABASE_URL must be set outside development")
        if self.environment == "production" and not self.kafka_idempotence:
            raise ValueError("production needs RAPPORT_PROJECTION_KAFKA_IDEMPOTENCE=true (real Kafka supports it)")
        return self
