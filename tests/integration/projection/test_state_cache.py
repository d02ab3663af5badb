"""A worker's cached fold states against real PostgreSQL: used while current, never once the row says otherwise."""

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from services.projection.adapters.documents import encode
from services.projection.adapters.state_cache import StateCache
from services.projection.adapters.view_publisher import KafkaViewPublisher, create_producer
from services.projection.adapters.view_store import BatchTransaction, PostgresViewStore
from services.projection.domain import CustomerState, FoldRules
from services.projection.handlers.project_batch import ProjectBatch
from tests.integration.projection.conftest import Projection
from tests.unit.projection.factories import record

pytestmark = pytest.mark.integration


@dataclass
class FakeRecord:
    offset: int
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def batch(*values: dict[str, Any], offset: int = 0) -> dict[int, list[FakeRecord]]:
    return {0: [FakeRecord(offset + n, orjson.dumps(value)) for n, value in enumerate(values)]}


async def test_cached_states_are_used_while_current_and_dropped_when_the_row_changed(projection: Projection) -> None:
    settings, ana = projection.settings, f"c-{uuid.uuid4().hex[:8]}"
    store, cache = PostgresViewStore(projection.engine), StateCache(100)
    producer = create_producer({"bootstrap_servers": projection.bootstrap}, idempotent=False)
    await producer.start()
    try:
        project = ProjectBatch(store, KafkaViewPublisher(producer, settings.views_topic), FoldRules(),
                               settings.consumer_group, settings.events_topic, state_cache=cache)  # fmt: skip
        await project(batch(record(ana, 1, minutes=1)))
        await project(batch(record(ana, 2, minutes=2), offset=1))
        assert cache.hits == 1  # the second batch folded into the state the first one stored

        # Someone else (a rebuild with other rules, another worker) stores a different state at a new position.
        other = CustomerState(ana, version=9, position=3, touchpoints=40)
        async with projection.engine.begin() as connection:
            await connection.execute(text(
                "UPDATE customer_views SET position = 3, version = 9, fold_state = :state WHERE customer_id = :c"
            ), {"state": encode(other.to_json()), "c": ana})  # fmt: skip
        outcome = await project(batch(record(ana, 4, minutes=4), offset=2))

        assert outcome.applied == 1
        views = await projection.views()
        assert (views[ana]["version"], views[ana]["experience"]["touchpoints"]) == (10, 41)  # from the row
    finally:
        await producer.stop()


async def test_a_failed_batch_leaves_no_state_it_folded_into(
    projection: Projection, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, zoe = projection.settings, f"c-{uuid.uuid4().hex[:8]}"
    store, cache = PostgresViewStore(projection.engine), StateCache(100)
    producer = create_producer({"bootstrap_servers": projection.bootstrap}, idempotent=False)
    await producer.start()
    try:
        project = ProjectBatch(store, KafkaViewPublisher(producer, settings.views_topic), FoldRules(),
                               settings.consumer_group, settings.events_topic, state_cache=cache)  # fmt: skip
        await project(batch(record(zoe, 1, minutes=1)))

        async def lost_connection(*args: Any) -> None:
            raise ConnectionResetError("the database went away mid-batch")

        with monkeypatch.context() as patched:
            patched.setattr(BatchTransaction, "save_offsets", lost_connection)
            with pytest.raises(ConnectionResetError):
                await project(batch(record(zoe, 2, minutes=2), offset=1))
        assert len(cache) == 0  # the state it handed out was folded into, and nothing was stored

        await project(batch(record(zoe, 2, minutes=2), offset=1))  # the batch again, as after a restart
        views = await projection.views()
        assert (views[zoe]["version"], views[zoe]["experience"]["touchpoints"]) == (2, 2)
    finally:
        await producer.stop()
