"""The view store contract against real PostgreSQL, on a freshly migrated database."""

from collections.abc import AsyncIterator

import pytest

from services.projection.adapters.database import create_engine
from services.projection.adapters.migrate import migrate
from services.projection.adapters.view_store import PostgresViewStore
from tests.integration.projection.conftest import fresh_database
from tests.unit.projection.view_store_contract import ViewStoreContract

pytestmark = pytest.mark.integration


class TestPostgresViewStore(ViewStoreContract):
    @pytest.fixture
    async def store(self, postgres_server_url: str) -> AsyncIterator[PostgresViewStore]:
        database_url = await fresh_database(postgres_server_url)
        await migrate(database_url)
        engine = create_engine(database_url)
        yield PostgresViewStore(engine)
        await engine.dispose()
