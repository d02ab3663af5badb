"""How every Kafka client of the projection authenticates and encrypts: one function, so clients cannot drift."""

from typing import TYPE_CHECKING, Any

from aiokafka.helpers import create_ssl_context

if TYPE_CHECKING:
    from services.projection.settings import ProjectionSettings


def kafka_client_options(settings: "ProjectionSettings") -> dict[str, Any]:
    """Keyword arguments for AIOKafkaConsumer / AIOKafkaProducer / AIOKafkaAdminClient (settings are validated:
    a SASL protocol always comes with mechanism, user and password)."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap, "security_protocol": protocol}
    if protocol in {"SSL", "SASL_SSL"}:
        # Verifying context (certificate and hostname checked); the system's CAs unless a cafile is given.
        options["ssl_context"] = create_ssl_context(cafile=settings.kafka_ssl_cafile)
    if protocol.startswith("SASL_"):
        password = settings.kafka_sasl_password
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = None if password is None else password.get_secret_value()
    return options
