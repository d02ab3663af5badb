"""ProjectionSettings: every knob of the read side, from `RAPPORT_PROJECTION_*` environment variables."""

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import topics
from contracts.auth import ApiKey, ApiKeyConfigError, parse_keys
from services.common.kafka_security import SaslMechanism, SecurityProtocol, check_kafka_security

DEVELOPMENT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/rapport"


class ProjectionSettings(BaseSettings):
    """Validated once at start; nothing here connects to anything."""

    # hide_input_in_errors: a refusal must not print the key list or the SASL password it was given
    model_config = SettingsConfigDict(env_prefix="RAPPORT_PROJECTION_", extra="ignore", hide_input_in_errors=True)

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
    batch_timeout_ms: int = Field(default=10, ge=0)
    # A worker whose fetches come back full doubles its batch up to this, folding more events into each view it
    # writes and publishes; it halves again once fetches come back less than half full.
    batch_lagging_max_records: int = Field(default=40_000, ge=1)
    # Fold states a worker keeps between batches (least recently used go; 0 = none): a state PostgreSQL confirms
    # is current need not be decoded again. A few KB each.
    state_cache_size: int = Field(default=20_000, ge=0)
    # Views on the view topics carry personal fields (name to use, accessibility, topics to avoid, free-form extras)
    # only when this is on: Kafka has no pii:read, so turn it on only for a topic guarded by Kafka ACLs.
    view_topic_personal_data: bool = False
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
    # Kafka client security, the same for every client (the events consumer, the view producer, readiness).
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None  # PEM; without it, TLS trusts the system's CAs
    # Hashed API keys, `name:sha256hex:scope+scope,...` (contracts.auth). Hashes, yet kept out of logs all the same.
    api_keys: SecretStr | None = None
    # Per key and per process: a token bucket refilled at `rate_limit_per_s`, holding at most `rate_limit_burst`.
    rate_limit_per_s: float = Field(default=200.0, gt=0)
    rate_limit_burst: int = Field(default=400, ge=1)
    max_streams_per_key: int = Field(default=100, ge=1)
    # Prometheus on a port of its own, for processes without the HTTP API (`worker`); 0 = off.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    # Not ready while the consumer is more than this many records behind (0 = never judged on lag). Generous on
    # purpose: every replica catches up together, and if all said "not ready" at once, reads would stop entirely.
    ready_max_lag: int = Field(default=100_000, ge=0)
    readiness_broker_cache_s: float = Field(default=5.0, ge=0)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Rebuilds read the experience service's event log (GET /v1/events) with a key holding `admin`.
    event_log_url: str = "http://127.0.0.1:8080"
    event_log_api_key: SecretStr | None = None
    rebuild_page_size: int = Field(default=10_000, ge=1, le=20_000)
    # Shards of customers replayed side by side, `processes` at a time; more shards than processes bound each
    # process's memory to its share of the customers (a few KB each). 0 shards: one per process.
    rebuild_processes: int = Field(default=2, ge=1, le=64)
    rebuild_shards: int = Field(default=0, ge=0, le=64)
    # The customer brief (/brief/): a signed-in person's session ends after this long without a request.
    brief_session_idle_s: float = Field(default=900.0, gt=0, le=86_400)
    # Finding a customer by email, phone or loyalty card asks the experience service, which alone holds the
    # identity hashes. With no key here, the lookup is made with the signed-in person's own key.
    brief_identity_url: str = "http://127.0.0.1:8080"
    brief_identity_api_key: SecretStr | None = None

    @field_validator(
        "kafka_sasl_mechanism",
        "kafka_sasl_username",
        "kafka_sasl_password",
        "kafka_ssl_cafile",
        "api_keys",
        "event_log_api_key",
        "brief_identity_api_key",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # docker-compose passes `${VAR:-}` as an empty string when the variable is not set
        return None if value == "" else value

    @model_validator(mode="after")
    def _consistent(self) -> "ProjectionSettings":
        self.keys()  # a malformed key list stops the start, naming the entry it cannot read
        self._check_kafka_security()
        if self.environment == "production":
            self._check_production()
        return self

    def _check_kafka_security(self) -> None:
        check_kafka_security(
            "RAPPORT_PROJECTION_KAFKA_", self.kafka_security_protocol, self.kafka_sasl_mechanism,
            self.kafka_sasl_username, self.kafka_sasl_password, self.kafka_ssl_cafile,
        )  # fmt: skip

    def _check_production(self) -> None:
        if self.database_url == DEVELOPMENT_DATABASE_URL:
            raise ValueError("RAPPORT_PROJECTION_DATABASE_URL must be set outside development")
        if not self.kafka_idempotence:
            raise ValueError("production needs RAPPORT_PROJECTION_KAFKA_IDEMPOTENCE=true (real Kafka supports it)")
        if not self.keys():
            raise ValueError(
                "production needs RAPPORT_PROJECTION_API_KEYS: hashed keys as `name:sha256hex:scope+scope,...` "
                "(make one with `python -c 'from contracts.auth import *; k = new_key(); "
                'print(k, describe("name", k, [Scope.VIEWS_READ]))\'`); refusing to run without authentication'
            )

    def keys(self) -> list[ApiKey]:
        """The configured API keys; none means authentication is off (development and tests only)."""
        if self.api_keys is None:
            return []
        try:
            return parse_keys(self.api_keys.get_secret_value())
        except ApiKeyConfigError as error:
            raise ValueError(f"RAPPORT_PROJECTION_API_KEYS: {error}") from None
