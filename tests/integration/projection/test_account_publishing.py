"""Two workers rolling up one account: the account topic ends on the latest committed roll-up, whoever is slower."""

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from services.projection.adapters.view_publisher import KafkaViewPublisher, create_producer
from services.projection.adapters.view_store import PostgresViewStore
from services.projection.domain import FoldRules
from services.projection.handlers.project_batch import ProjectBatch
from tests.integration.projection.conftest import Projection
from tests.unit.projection.factories import record
from tests.unit.projection.fakes import FakeRecord

pytestmark = pytest.mark.integration

_WAITING_FOR_A_LOCK = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


class SlowAccountPublisher(KafkaViewPublisher):
    """A worker whose account views take their time to reach the broker: each publish waits for `release`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reached, self.release = asyncio.Event(), asyncio.Event()

    async def publish(
        self, views: list[dict[str, Any]], traceparents: Mapping[str, str] | None = None,
        serialised: list[bytes] | None = None,
    ) -> None:  # fmt: skip
        self.reached.set()
        await self.release.wait()
        await super().publish(views, traceparents, serialised)


def batch(partition: int, *values: dict[str, Any]) -> dict[int, list[FakeRecord]]:
    return {partition: [FakeRecord(offset, orjson.dumps(value)) for offset, value in enumerate(values)]}


async def blocked_or_done(projection: Projection, task: "asyncio.Task[Any]") -> None:
    """Until `task` has finished or waits for an account's lock (then it can do nothing more until released)."""
    for _ in range(200):
        if task.done():
            return
        async with projection.engine.connect() as connection:
            if (await connection.execute(_WAITING_FOR_A_LOCK)).scalar():
                return
        await asyncio.sleep(0.05)


async def test_an_older_roll_up_published_late_does_not_bring_an_erased_member_back(projection: Projection) -> None:
    settings = projection.settings
    account, erased, kept = (f"{p}-{uuid.uuid4().hex[:8]}" for p in ("a", "c", "c"))
    store = PostgresViewStore(projection.engine)
    producer = create_producer({"bootstrap_servers": projection.bootstrap}, idempotent=False)
    await producer.start()
    try:
        customers = KafkaViewPublisher(producer, settings.views_topic)
        prompt = KafkaViewPublisher(producer, settings.account_views_topic, key_field="account_id")
        slow = SlowAccountPublisher(producer, settings.account_views_topic, key_field="account_id")

        def worker(accounts: KafkaViewPublisher) -> ProjectBatch:
            return ProjectBatch(store, customers, FoldRules(), settings.consumer_group, settings.events_topic,
                                account_publisher=accounts)  # fmt: skip

        await worker(prompt)(batch(0,
            record(erased, 1, "membership", account_id=account, role="decision_maker", member=True),
            record(kept, 2, "membership", account_id=account, role="technical", member=True),
        ))  # fmt: skip
        # Worker B commits a roll-up that still lists `erased`, then is slow to publish it ...
        older = asyncio.create_task(worker(slow)(batch(1, record(kept, 3, minutes=5, sentiment=0.6))))
        await asyncio.wait_for(slow.reached.wait(), 30)
        # ... while worker A projects the erasure (a newer roll-up without them) on another partition.
        newer = asyncio.create_task(worker(prompt)(batch(2, record(erased, 4, "erased"))))
        await blocked_or_done(projection, newer)
        slow.release.set()
        await asyncio.wait_for(asyncio.gather(older, newer), 30)
    finally:
        await producer.stop()

    published = (await projection.published_views(settings.account_views_topic))[account]
    async with projection.engine.connect() as connection:
        stored = (await connection.execute(
            text("SELECT view, revision, published_revision FROM account_views WHERE account_id = :a"), {"a": account}
        )).one()  # fmt: skip
    assert [m["customer_id"] for m in published["members"]] == [kept]
    assert published == stored.view
    assert stored.published_revision == stored.revision == 3
