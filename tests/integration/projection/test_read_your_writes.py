"""`?min_position=` with a batch's position, on real PostgreSQL and the real broker: every customer on the
partition that carried it is answered at once, and the answer says whether the wait got there."""

import time
import uuid

import httpx
import pytest
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import text

from services.projection.adapters.view_store import PostgresViewStore
from services.projection.bootstrap import create_app
from tests.integration.projection.conftest import PARTITIONS, Projection
from tests.unit.projection.factories import record

pytestmark = pytest.mark.integration

WAIT_S = 2.0
HEADER = "Rapport-Min-Position"


def partition_of(customer_id: str) -> int:
    """The partition the producer's default partitioner (as the relay's) gives a customer's key."""
    partitions = list(range(PARTITIONS))
    return int(DefaultPartitioner()(customer_id.encode(), partitions, partitions))


def customers_by_partition() -> tuple[str, str, str]:
    """Two customers sharing a partition and one on another."""
    first = f"c-{uuid.uuid4().hex[:8]}"
    same = other = None
    while same is None or other is None:
        candidate = f"c-{uuid.uuid4().hex[:8]}"
        if partition_of(candidate) == partition_of(first):
            same = same or candidate
        else:
            other = other or candidate
    return first, same, other


async def test_every_customer_on_the_batchs_partition_reaches_its_position_at_once(projection: Projection) -> None:
    first, same, other = customers_by_partition()
    # One batch, as POST /v1/events answers it with position 3: `first` has only position 1 in it.
    await projection.produce([record(first, 1), record(other, 2), record(same, 3)])
    app = create_app(projection.settings.model_copy(update={"min_position_wait_s": WAIT_S}), run_consumer=True)
    async with app.router.lifespan_context(app):
        await projection.wait_for_versions(3)  # the first group join takes longer than a min_position wait
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://projection") as client:
            started = time.monotonic()
            response = await client.get(f"/v1/customers/{first}", params={"min_position": 3})
            assert time.monotonic() - started < WAIT_S / 2
            assert response.headers[HEADER] == "reached"
            assert response.json()["position"] == 1

            timeline = await client.get(f"/v1/customers/{first}/timeline", params={"min_position": 3})
            assert timeline.headers[HEADER] == "reached"
            # Another partition's progress vouches for nothing: its last event here was 2, and all the view can
            # say after the wait is that it gave up.
            response = await client.get(f"/v1/customers/{other}", params={"min_position": 3})
            assert response.headers[HEADER] == "timed-out"
            assert response.json()["position"] == 2


async def test_a_redelivery_moves_the_offset_back_but_not_the_applied_position(projection: Projection) -> None:
    store = PostgresViewStore(projection.engine)
    async with store.transaction() as tx:
        await tx.save_offsets("g", "t", {0: 40, 1: 7}, {0: 90, 1: 12})
    async with store.transaction() as tx:  # the broker lost its data: partition 0 is read again from the start
        await tx.save_offsets("g", "t", {0: 3, 1: 8}, {0: 5, 1: 13})
    async with projection.engine.connect() as connection:
        rows = await connection.execute(text("SELECT partition, next_offset, applied_position FROM consumer_offsets"))
        assert sorted(tuple(row) for row in rows) == [(0, 3, 90), (1, 8, 13)]
