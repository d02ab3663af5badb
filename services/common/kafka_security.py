"""How every Kafka client of Rapport authenticates and encrypts: one description, checked one way, with two
spellings of it, for both services and the operator's commands.

aiokafka clients (producers, consumers, probes) take keyword arguments; FastStream's broker (the experience's
intake consumer) takes a security object. Both come from one `KafkaSecurity`, so no client can drift apart, and
each settings class checks its own variables with `check_kafka_security`, so the refusals read alike.
"""

import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr

if TYPE_CHECKING:
    from faststream.security import BaseSecurity

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"]


def check_kafka_security(
    prefix: str, protocol: str, mechanism: str | None, username: str | None, password: object, cafile: str | None
) -> None:
    """Refuse settings that cannot work, naming the variables under `prefix` (e.g. `RAPPORT_EXPERIENCE_KAFKA_`):
    SASL needs mechanism, user and password; SASL settings need a SASL protocol; a CA file needs TLS."""
    sasl = protocol.startswith("SASL_")
    if sasl and not (mechanism and username and password):
        raise ValueError(
            f"{prefix}SECURITY_PROTOCOL={protocol} needs {prefix}SASL_MECHANISM, {prefix}SASL_USERNAME and "
            f"{prefix}SASL_PASSWORD"
        )
    if not sasl and (mechanism or username or password):
        raise ValueError(
            f"SASL settings are given but {prefix}SECURITY_PROTOCOL is {protocol}; use SASL_SSL (or SASL_PLAINTEXT)"
        )
    if cafile and not protocol.endswith("SSL"):
        raise ValueError(f"{prefix}SSL_CAFILE is set but the security protocol does not use TLS")


@dataclass(frozen=True, slots=True)
class KafkaSecurity:
    """Validated settings (`check_kafka_security`): SASL_* always comes with mechanism, user and password."""

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    username: str | None = None
    password: str | None = None
    cafile: str | None = None

    @classmethod
    def of(
        cls, protocol: str, mechanism: str | None, username: str | None, password: SecretStr | None, cafile: str | None
    ) -> "KafkaSecurity":
        """From a settings class's fields (the password kept secret until a client needs it)."""
        secret = None if password is None else password.get_secret_value()
        return cls(protocol, mechanism, username, secret, cafile)

    @property
    def uses_tls(self) -> bool:
        return self.protocol in {"SSL", "SASL_SSL"}

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    def ssl_context(self) -> ssl.SSLContext | None:
        """A verifying TLS context (hostname checked) trusting `cafile`, or the system's CAs without one."""
        from aiokafka.helpers import create_ssl_context  # here: settings import this module, clients need it

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

    def faststream(self) -> "BaseSecurity | None":
        """The same as FastStream's `security=` object (which also shows up in the AsyncAPI document)."""
        # Imported here: only the experience's intake uses FastStream, and the projection should not load it.
        from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

        sasl_types: dict[str, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
            "PLAIN": SASLPlaintext,
            "SCRAM-SHA-256": SASLScram256,
            "SCRAM-SHA-512": SASLScram512,
        }
        context = self.ssl_context()
        if self.uses_sasl:
            sasl = sasl_types[str(self.sasl_mechanism)]
            return sasl(str(self.username), str(self.password), ssl_context=context, use_ssl=self.uses_tls)
        if self.uses_tls:
            return BaseSecurity(ssl_context=context, use_ssl=True)
        return None
