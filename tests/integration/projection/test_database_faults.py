"""A projection worker whose database connections are terminated (a restart, a failover, an operator) carries on
by itself once PostgreSQL answers again, with exact counts: no event lost, none applied twice."""

import asyncio

import asyncpg
import pytest

from services.cli.embedded import asyncpg_dsn
from tests.integration.projection.conftest import Projection
from tests.integration.projection.test_consumer import counts, history

pytestmark = pytest.mark.integration


async def terminate_connections(database_url: str) -> None:
    admin = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND datname = current_database()"
        )
    finally:
        await admin.close()


async def test_a_worker_outlives_terminated_connections_with_exact_counts(projection: Projection) -> None:
    records, expected = history(customers=20, per_customer=20)
    half = len(records) // 2
    await projection.produce(records[:half])
    worker = projection.start(batch_max_records=25)
    try:
        await projection.wait_for_versions(half // 3)
        for _ in range(3):  # mid-stream, while batches are being written
            await terminate_connections(projection.settings.database_url)
            await projection.engine.dispose()  # the test's own reader lost its connections too
            await asyncio.sleep(0.2)
        await projection.produce(records[half:])
        views = await projection.wait_for_versions(len(records), timeout=60)
        assert counts(views) == expected
        await worker.check()  # still running: not a consumer that stopped for good
    finally:
        await worker.stop()
