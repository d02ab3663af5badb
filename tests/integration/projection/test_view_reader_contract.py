"""The view reader contract against real PostgreSQL, seeded by the batch handler on a freshly migrated database."""

from collections.abc import AsyncIterator

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.projection.adapters.database import create_engine
from services.projection.adapters.migrate import migrate
from services.projection.adapters.view_reader import PostgresViewReader
from services.projection.adapters.view_store import PostgresViewStore
from services.projection.domain import AccountRules, FoldRules
from services.projection.handlers.project_batch import ProjectBatch
from tests.integration.projection.conftest import fresh_database
from tests.unit.projection.fakes import FakeRecord, FakeViewPublisher
from tests.unit.projection.view_reader_contract import Batch, ViewReaderContract

pytestmark = pytest.mark.integration

GROUP, TOPIC = "projection", "cx.events.v1"


class BatchSeeding:
    """Each batch through ProjectBatch into PostgreSQL, at the next offsets of its partitions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._project = ProjectBatch(
            PostgresViewStore(engine), FakeViewPublisher(), FoldRules(), GROUP, TOPIC,
            account_publisher=FakeViewPublisher(), account_rules=AccountRules(),
        )  # fmt: skip
        self._next: dict[int, int] = {}

    async def __call__(self, batch: Batch) -> None:
        consumed = {}
        for partition, records in batch.items():
            first = self._next.get(partition, 0)
            consumed[partition] = [FakeRecord(first + n, orjson.dumps(value)) for n, value in enumerate(records)]
            self._next[partition] = first + len(records)
        await self._project(consumed)


class TestPostgresViewReader(ViewReaderContract):
    @pytest.fixture
    async def engine(self, postgres_server_url: str) -> AsyncIterator[AsyncEngine]:
        database_url = await fresh_database(postgres_server_url)
        await migrate(database_url)
        engine = create_engine(database_url)
        yield engine
        await engine.dispose()

    @pytest.fixture
    def reader(self, engine: AsyncEngine) -> PostgresViewReader:
        return PostgresViewReader(engine, group=GROUP, topic=TOPIC)

    @pytest.fixture
    def seed(self, engine: AsyncEngine) -> BatchSeeding:
        return BatchSeeding(engine)
