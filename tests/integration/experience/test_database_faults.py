"""When PostgreSQL drops the service's connections (a restart, a failover, an operator), intake answers 503 with
Retry-After or succeeds on a fresh connection: never a 500, and nothing accepted is lost."""

import asyncio

import asyncpg
import httpx
import orjson
import pytest

from services.cli.embedded import asyncpg_dsn
from services.experience.settings import ExperienceSettings

from ...unit.experience.events import touchpoint

pytestmark = pytest.mark.integration

BATCH = {"content-type": "application/cloudevents-batch+json"}


async def terminate_connections(database_url: str) -> int:
    admin = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return int(await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND datname = current_database()"
        ))  # fmt: skip
    finally:
        await admin.close()


async def test_connections_terminated_mid_request_give_503_with_retry_after_never_500(
    client: httpx.AsyncClient, settings: ExperienceSettings
) -> None:
    accepted: set[str] = set()
    statuses: list[int] = []

    async def post_batches() -> None:
        for _ in range(40):
            answer = await client.post("/v1/events", content=orjson.dumps([touchpoint() for _ in range(20)]),
                                       headers=BATCH)  # fmt: skip
            statuses.append(answer.status_code)
            if answer.status_code == 202:
                accepted.update(answer.json()["accepted"])
            else:
                assert answer.status_code == 503, answer.text
                assert int(answer.headers["retry-after"]) >= 1

    async def terminate_repeatedly() -> None:
        for _ in range(8):
            await asyncio.sleep(0.03)
            await terminate_connections(settings.database_url)

    await asyncio.gather(post_batches(), post_batches(), terminate_repeatedly())

    again = [touchpoint() for _ in range(5)]
    final = await client.post("/v1/events", content=orjson.dumps(again), headers=BATCH)
    assert final.status_code == 202, statuses
    stored = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    try:
        ids = {row["event_id"] for row in await stored.fetch("SELECT event_id FROM events")}
    finally:
        await stored.close()
    assert accepted | {e["id"] for e in again} <= ids  # every 202 was stored
