"""A migrated, empty event store per test, on the real PostgreSQL of the session."""

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.cli.embedded import ensure_database
from services.experience.adapters.event_store import PostgresEventStore
from services.experience.adapters.migrate import migrate
from tests.conftest import unique


@pytest.fixture(scope="session")
def database_factory(postgres_server_url: str) -> Callable[[], Awaitable[str]]:
    """Like the shared fixture, but swaps only the database name: the shared one cuts the URL at its last
    `/`, which for the embedded server lies inside `?host=/socket/dir`."""

    async def make() -> str:
        url = make_url(postgres_server_url).set(database=unique("t").replace("-", "_"))
        rendered = url.render_as_string(hide_password=False)
        await ensure_database(rendered)
        return rendered

    return make


@pytest.fixture
async def database_url(database_factory: Callable[[], Awaitable[str]]) -> str:
    url = await database_factory()
    await migrate(url)
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> PostgresEventStore:
    return PostgresEventStore(engine, leadership_retry_s=0.05)
