"""A migrated, empty event store per test, on the real PostgreSQL of the session."""

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.cli.embedded import ensure_database
from services.experience.adapters.event_store import PostgresEventStore
from services.experience.adapters.migrate import migrate
from services.experience.bootstrap import create_app
from services.experience.settings import ExperienceSettings
from tests.conftest import unique

from ...unit.experience.events import new_id
from .kafka_helpers import make_topic


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


@pytest.fixture
async def settings(database_url: str, kafka_bootstrap: str, topic_names: Callable[[str], str]) -> ExperienceSettings:
    """The whole service's settings on fresh topics, a fresh consumer group and a migrated database."""
    settings = ExperienceSettings(
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        intake_topic=topic_names("intake"),
        intake_dlq_topic=topic_names("dlq"),
        events_topic=topic_names("events"),
        intake_group_id=new_id("group"),
    )
    for topic in (settings.intake_topic, settings.intake_dlq_topic, settings.events_topic):
        await make_topic(kafka_bootstrap, topic)
    return settings


@pytest.fixture
async def client(settings: ExperienceSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The service as `create_app` builds it, lifespan (relay, intake) running, reached in-process over HTTP."""
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://experience") as http:
            yield http
