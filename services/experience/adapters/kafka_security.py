"""How every Kafka client of the service authenticates and encrypts: one description, two spellings of it.

aiokafka clients (the producer, the relay's topic reader, the readiness probe) take keyword arguments;
FastStream's broker (the intake consumer) takes a security object. Both come from one `KafkaSecurity`, so the
clients cannot drift apart.
"""

import ssl
from dataclasses import dataclass
from typing import Any

from aiokafka.helpers import create_ssl_context
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

_SASL_TYPES: dict[str, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
    "PLAIN": SASLPlaintext,
    "SCRAM-SHA-256": SASLScram256,
    "SCRAM-SHA-512": SASLScram512,
}


@dataclass(frozen=True, slots=True)
class KafkaSecurity:
    """The validated settings (see ExperienceSettings): SASL_* always comes with mechanism, user and password."""

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    username: str | None = None
    password: str | None = None
    cafile: str | None = None

    @property
    def uses_tls(self) -> bool:
        return self.protocol in {"SSL", "SASL_SSL"}

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    def ssl_context(self) -> ssl.SSLContext | None:
        """A verifying TLS context (hostname checked) trusting `cafile`, or the system's CAs without one."""
        return create_ssl_context(cafile=self.cafile) if self.uses_tls else None

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer / AIOKafkaConsumer / AIOKafkaAdminClient."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.username
            options["sasl_plain_password"] = self.password
        return options

    def faststream(self) -> BaseSecurity | None:
        """The same as FastStream's `security=` object (which also shows up in the AsyncAPI document)."""
        context = self.ssl_context()
        if self.uses_sasl:
            sasl = _SASL_TYPES[str(self.sasl_mechanism)]
            return sasl(str(self.username), str(self.password), ssl_context=context, use_ssl=self.uses_tls)
        if self.uses_tls:
            return BaseSecurity(ssl_context=context, use_ssl=True)
        return None
