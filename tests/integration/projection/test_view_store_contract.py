"""The view store contract against real PostgreSQL, on a freshly migrated database."""

from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from sqlalchemy import text

from services.projection.adapters.database import create_engine
from services.projection.adapters.migrate import migrate
from services.projection.adapters.rows import timeline_columns, timeline_row
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


async def test_a_timeline_rows_columns_are_its_entrys_fields(postgres_server_url: str) -> None:
    # The live insert takes the columns from the entry in SQL; rows.timeline_columns (the rebuild's COPY, the
    # fakes) names them in Python: the two must agree.
    database_url = await fresh_database(postgres_server_url)
    await migrate(database_url)
    engine = create_engine(database_url)
    entry = {
        "event_id": "pos-7781-0042", "position": 29, "time": "2026-11-23T10:15:00.250000Z", "channel": "store",
        "kind": "purchase", "feeling": "positive", "sentiment": 0.6, "emotion": "delighted", "outcome": None,
    }  # fmt: skip
    try:
        async with PostgresViewStore(engine).transaction() as tx:
            await tx.add_timeline([timeline_row("c-ana-alvarez", entry)])
            await tx.add_timeline([timeline_row("c-ana-alvarez", {**entry, "kind": "complaint"})])  # a known id
        async with engine.connect() as connection:
            stored = (await connection.execute(text("SELECT * FROM timeline_entries"))).mappings().all()
    finally:
        await engine.dispose()
    expected = timeline_columns(timeline_row("c-ana-alvarez", entry))
    assert [dict(row) for row in stored] == [
        {**expected, "occurred_at": datetime.fromisoformat(expected["occurred_at"])}
    ]
