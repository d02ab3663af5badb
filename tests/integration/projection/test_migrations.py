"""Schema changes keep what is stored (views and fold states written as jsonb read back the same after p0003), and
readiness refuses only a schema behind this code's."""

from collections.abc import Callable

import orjson
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.projection.adapters.database import create_engine
from services.projection.adapters.migrate import (
    MIGRATIONS,
    VERSION_TABLE,
    SchemaBehindError,
    check_schema,
    known_revisions,
    migrate,
)
from services.projection.adapters.view_reader import PostgresViewReader
from services.projection.adapters.view_store import PostgresViewStore
from tests.integration.migration_steps import migration_to
from tests.integration.projection.conftest import fresh_database

pytestmark = pytest.mark.integration


def _to(revision: str, downgrade: bool = False) -> Callable[[Connection], None]:
    return migration_to(MIGRATIONS, revision, downgrade)


async def test_jsonb_views_are_converted_and_read_back(postgres_server_url: str) -> None:
    url = await fresh_database(postgres_server_url)
    view = {"customer_id": "c-1", "version": 2, "position": 7, "updated_at": "2026-01-01T00:00:00.000000Z",
            "experience": {"score": 0.5}, "note": "é"}  # fmt: skip
    state = {"customer_id": "c-1", "version": 2, "position": 7, "sequence": 2, "day_bits": "3"}
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_to("p0002"))
        await connection.execute(
            text("INSERT INTO customer_views (customer_id, version, position, view, fold_state, published_position) "
                 "VALUES ('c-1', 2, 7, CAST(:v AS jsonb), CAST(:s AS jsonb), 5)"),
            {"v": orjson.dumps(view).decode(), "s": orjson.dumps(state).decode()},
        )  # fmt: skip
        await connection.run_sync(_to("head"))
    await engine.dispose()
    engine = create_engine(url)
    try:
        reader = PostgresViewReader(engine, group="g", topic="t")
        assert await reader.get_view("c-1") == view
        # A row from before p0005 has no partition: only its own position tells what it has applied.
        assert await reader.get_view_applied("c-1", 7) == (view, True)
        assert await reader.get_view_applied("c-1", 8) == (view, False)
        async with PostgresViewStore(engine).transaction() as tx:
            assert (await tx.load_states(["c-1"]))["c-1"].sequence == 2
            assert await tx.lock_unpublished(10) == [view]  # still unpublished: republished at the next start
        async with engine.begin() as connection:
            await connection.run_sync(_to("p0002", downgrade=True))
            back = (await connection.execute(text("SELECT view FROM customer_views"))).scalar()
        assert back == view
    finally:
        await engine.dispose()


async def test_readiness_accepts_the_head_or_a_newer_schema_and_refuses_an_older_one(postgres_server_url: str) -> None:
    url = await fresh_database(postgres_server_url)
    engine = create_engine(url)
    known = known_revisions()

    async def at(revision: str | None) -> None:
        async with engine.begin() as connection:
            await connection.execute(text(f"DELETE FROM {VERSION_TABLE}"))
            if revision is not None:
                await connection.execute(text(f"INSERT INTO {VERSION_TABLE} VALUES (:r)"), {"r": revision})
        await check_schema(engine, known)

    try:
        await migrate(url)
        await at(known.head)
        await at("p9999")  # the migration Job of a rollout ran first: old pods keep serving
        for behind in (*known.older, None):
            with pytest.raises(SchemaBehindError):
                await at(behind)
    finally:
        await engine.dispose()
