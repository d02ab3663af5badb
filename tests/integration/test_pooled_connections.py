"""A pooled connection PostgreSQL closed is replaced at checkout, found by asking the driver (no ping)."""

import asyncio

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.cli.embedded import asyncpg_dsn
from services.common.pooled_connections import replace_closed_connections

pytestmark = pytest.mark.integration


async def test_a_connection_the_server_closed_is_replaced_at_checkout(postgres_server_url: str) -> None:
    engine = replace_closed_connections(create_async_engine(postgres_server_url, pool_size=1, max_overflow=0))
    try:
        async with engine.connect() as connection:
            backend = await connection.scalar(text("SELECT pg_backend_pid()"))
            driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        admin = await asyncpg.connect(asyncpg_dsn(postgres_server_url))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", backend)
        finally:
            await admin.close()
        for _ in range(200):  # until the driver has seen its socket close (the pool holds it meanwhile)
            if driver.is_closed():
                break
            await asyncio.sleep(0.05)
        assert driver.is_closed()

        async with engine.connect() as connection:  # the only pooled connection is the closed one
            assert await connection.scalar(text("SELECT pg_backend_pid()")) != backend
    finally:
        await engine.dispose()
