"""The operator commands reach a SASL_SSL cluster as the services do: RAPPORT_KAFKA_* variables become every
Kafka client's security arguments; unset, PLAINTEXT (the embedded broker); contradictions stop before connecting."""

import ssl
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiokafka
import certifi
import pytest
from typer.testing import CliRunner

from services.cli import dlq, status, tail
from services.cli.main import app

BROKER = "broker.example:9093"
COMMANDS = {
    "status": ["status", "--database-url", "postgresql+asyncpg://u@db/rapport", "--bootstrap", BROKER],
    "tail": ["tail", "cx.events.v1", "--bootstrap", BROKER],
    "dlq replay": ["dlq", "replay", "--bootstrap", BROKER],
    "emit --via kafka": ["emit", "--customer", "c-1", "--via", "kafka", "--bootstrap", BROKER],
}
SASL_SSL = {
    "RAPPORT_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "RAPPORT_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "RAPPORT_KAFKA_SASL_USERNAME": "operator",
    "RAPPORT_KAFKA_SASL_PASSWORD": "s3cret-password",
    "RAPPORT_KAFKA_SSL_CAFILE": certifi.where(),
}


class FakeKafkaClient:
    """Stands in for AIOKafkaConsumer and AIOKafkaProducer: keeps its arguments, sees a cluster with no topics."""

    made: list[dict[str, Any]] = []

    def __init__(self, **options: Any) -> None:
        self.made.append(options)

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def topics(self) -> set[str]:
        return set()

    def partitions_for_topic(self, topic: str) -> None:
        return None

    def assign(self, partitions: list[Any]) -> None: ...

    async def end_offsets(self, partitions: list[Any]) -> dict[Any, int]:
        return {}

    async def send_and_wait(self, topic: str, value: bytes, key: bytes | None = None) -> Any:
        return SimpleNamespace(topic=topic, partition=0, offset=0)


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    for name in SASL_SSL:
        monkeypatch.delenv(name, raising=False)
    for module in (status, tail, dlq):
        monkeypatch.setattr(module, "AIOKafkaConsumer", FakeKafkaClient)
    monkeypatch.setattr(dlq, "AIOKafkaProducer", FakeKafkaClient)
    monkeypatch.setattr(aiokafka, "AIOKafkaProducer", FakeKafkaClient)  # emit imports it when it sends

    async def no_database(url: str) -> tuple[int, int, int, int, dict[int, int]]:
        return 0, 0, 0, 0, {}

    monkeypatch.setattr(status, "_database_figures", no_database)
    FakeKafkaClient.made = []
    yield FakeKafkaClient.made


@pytest.mark.parametrize("command", COMMANDS)
def test_sasl_ssl_from_the_environment_reaches_every_client(clients: list[dict[str, Any]], command: str) -> None:
    result = CliRunner().invoke(app, COMMANDS[command], env=SASL_SSL)

    assert result.exit_code == 0, result.output
    assert clients, "no Kafka client was made"
    for options in clients:
        assert options["bootstrap_servers"] == BROKER
        assert options["security_protocol"] == "SASL_SSL"
        assert (options["sasl_mechanism"], options["sasl_plain_username"]) == ("SCRAM-SHA-512", "operator")
        assert options["sasl_plain_password"] == "s3cret-password"
        context = options["ssl_context"]
        assert isinstance(context, ssl.SSLContext)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert "s3cret-password" not in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_plaintext_stays_the_default(clients: list[dict[str, Any]], command: str) -> None:
    result = CliRunner().invoke(app, COMMANDS[command])

    assert result.exit_code == 0, result.output
    assert clients, "no Kafka client was made"
    for options in clients:
        assert options["security_protocol"] == "PLAINTEXT"
        assert not {"ssl_context", "sasl_mechanism", "sasl_plain_username", "sasl_plain_password"} & set(options)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({**SASL_SSL, "RAPPORT_KAFKA_SASL_PASSWORD": ""}, "RAPPORT_KAFKA_SASL_PASSWORD"),
        ({"RAPPORT_KAFKA_SASL_USERNAME": "operator"}, "SASL_SSL"),
        ({"RAPPORT_KAFKA_SSL_CAFILE": certifi.where()}, "does not use TLS"),
        ({"RAPPORT_KAFKA_SECURITY_PROTOCOL": "SASL_SCRAM"}, "RAPPORT_KAFKA_SECURITY_PROTOCOL"),
    ],
)
def test_incomplete_or_contradictory_settings_stop_before_connecting(
    clients: list[dict[str, Any]], env: dict[str, str], named: str
) -> None:
    for args in COMMANDS.values():
        result = CliRunner().invoke(app, args, env=env)

        assert result.exit_code == 2, result.output
        assert named in " ".join(result.output.replace("│", " ").split())  # rich boxes and wraps the message
    assert clients == []


@pytest.mark.parametrize("command", COMMANDS)
def test_the_bootstrap_comes_from_rapport_kafka_bootstrap(clients: list[dict[str, Any]], command: str) -> None:
    args = [arg for arg in COMMANDS[command] if arg not in ("--bootstrap", BROKER)]

    result = CliRunner().invoke(app, args, env={"RAPPORT_KAFKA_BOOTSTRAP": BROKER})

    assert result.exit_code == 0, result.output
    assert clients and all(options["bootstrap_servers"] == BROKER for options in clients)


@pytest.mark.parametrize("command", COMMANDS)
def test_without_a_bootstrap_or_a_running_rapport_dev_the_command_says_so(
    clients: list[dict[str, Any]], command: str, tmp_path: Path
) -> None:
    args = [arg for arg in COMMANDS[command] if arg not in ("--bootstrap", BROKER)]

    result = CliRunner().invoke(app, [*args, "--data-dir", str(tmp_path)], env={"RAPPORT_KAFKA_BOOTSTRAP": None})

    assert result.exit_code == 2 and "--bootstrap" in result.output
    assert clients == []
