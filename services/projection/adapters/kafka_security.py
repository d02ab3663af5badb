"""How every Kafka client of the projection authenticates and encrypts: one function, so clients cannot drift."""

from typing import TYPE_CHECKING, Any

from services.common.kafka_security import KafkaSecurity

if TYPE_CHECKING:
    from services.projection.settings import ProjectionSettings


def kafka_security(settings: "ProjectionSettings") -> KafkaSecurity:
    return KafkaSecurity.of(
        settings.kafka_security_protocol, settings.kafka_sasl_mechanism, settings.kafka_sasl_username,
        settings.kafka_sasl_password, settings.kafka_ssl_cafile,
    )  # fmt: skip


def kafka_client_options(settings: "ProjectionSettings") -> dict[str, Any]:
    """Keyword arguments for AIOKafkaConsumer / AIOKafkaProducer / AIOKafkaAdminClient."""
    return {"bootstrap_servers": settings.kafka_bootstrap, **kafka_security(settings).client_options()}
