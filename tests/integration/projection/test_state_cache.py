"""A worker's cached fold states against real PostgreSQL: used while current, never once the row says otherwise."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from services.projection.adapters.documents import encode
from services.projection.adapters.state_cache import StateCache
from services.projection.adapters.view_publisher import KafkaViewPublisher, create_producer
from services.projection.adapters.view_store import PostgresBatchTransaction, PostgresViewStore
from services.projection.domain import CustomerState, FoldRules
from services.projection.handlers.project_batch import ProjectBatch
from tests.integration.projection.conftest import Projection
from tests.unit.projection.factories import record
from tests.unit.projection.fakes import FakeRecord

pytestmark = pytest.mark.integration


def batch(*values: dict[str, Any], offset: int = 0) -> dict[int, list[FakeRecord]]:
    return {0: [FakeRecord(offset + n, orjson.dumps(value)) for n, value in enumerate(values)]}


@dataclass
class CachingWorker:
    project: ProjectBatch
    cache: StateCache


@pytest.fixture
async def worker(projection: Projection) -> AsyncIterator[CachingWorker]:
    """A batch projector with a state cache, publishing to the test's view topic."""
    settings, cache = projection.settings, StateCache(100)
    producer = create_producer({"bootstrap_servers": projection.bootstrap}, idempotent=False)
    await producer.start()
    try:
        yield CachingWorker(ProjectBatch(
            PostgresViewStore(projection.engine), KafkaViewPublisher(producer, settings.views_topic), FoldRules(),
            settings.consumer_group, settings.events_topic, state_cache=cache,
        ), cache)  # fmt: skip
    finally:
        await producer.stop()


async def test_cached_states_are_used_while_current_and_dropped_when_the_row_changed(
    projection: Projection, worker: CachingWorker
) -> None:
    ana = f"c-{uuid.uuid4().hex[:8]}"
    project, cache = worker.project, worker.cache
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


async def test_a_failed_batch_leaves_no_state_it_folded_into(
    projection: Projection, worker: CachingWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    zoe = f"c-{uuid.uuid4().hex[:8]}"
    project, cache = worker.project, worker.cache
    await project(batch(record(zoe, 1, minutes=1)))

    async def lost_connection(*args: Any) -> None:
        raise ConnectionResetError("the database went away mid-batch")

    with monkeypatch.context() as patched:
        patched.setattr(PostgresBatchTransaction, "save_offsets", lost_connection)
        with pytest.raises(ConnectionResetError):
            await project(batch(record(zoe, 2, minutes=2), offset=1))
    assert len(cache) == 0  # the state it handed out was folded into, and nothing was stored

    await project(batch(record(zoe, 2, minutes=2), offset=1))  # the batch again, as after a restart
    views = await projection.views()
    assert (views[zoe]["version"], views[zoe]["experience"]["touchpoints"]) == (2, 2)


async def test_a_rebuild_swapping_the_table_makes_every_cached_state_stale(
    projection: Projection, worker: CachingWorker
) -> None:
    kim = f"c-{uuid.uuid4().hex[:8]}"
    await worker.project(batch(record(kim, 1, minutes=1)))
    # A rebuild (other rules, say) leaves the same position and version but a different state, in a new table.
    rebuilt = CustomerState(kim, version=1, position=1, touchpoints=30)
    async with projection.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE customer_views_swap (LIKE customer_views INCLUDING ALL)"))
        await connection.execute(text("INSERT INTO customer_views_swap SELECT * FROM customer_views"))
        await connection.execute(text("UPDATE customer_views_swap SET fold_state = :state WHERE customer_id = :c"),
                                 {"state": encode(rebuilt.to_json()), "c": kim})  # fmt: skip
        await connection.execute(text("DROP TABLE customer_views"))
        await connection.execute(text("ALTER TABLE customer_views_swap RENAME TO customer_views"))

    await worker.project(batch(record(kim, 2, minutes=2), offset=1))

    views = await projection.views()
    assert views[kim]["experience"]["touchpoints"] == 31  # folded into the rebuilt state, not the cached one
    assert worker.cache.hits == 0
