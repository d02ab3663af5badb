"""The projection against real PostgreSQL and a real broker: exact views whatever the broker does."""

import random
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from tests.integration.projection.conftest import Projection
from tests.unit.projection.factories import record

pytestmark = pytest.mark.integration


def history(customers: int, per_customer: int) -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
    """Interleaved canonical records of several customers, with the counts each view must end with."""
    ids = [f"c-{uuid.uuid4().hex[:8]}" for _ in range(customers)]
    expected = {c: {"touchpoints": 0, "negative": 0, "version": 0} for c in ids}
    records, position = [], 0
    for _ in range(per_customer):
        for customer in ids:
            position += 1
            expected[customer]["version"] += 1
            if random.random() < 0.2:
                records.append(record(customer, position, "preference", preferences={"tone": "warm"}))
                continue
            sentiment = random.choice([0.9, -0.8, None])
            records.append(record(customer, position, minutes=random.randint(0, 10_000), sentiment=sentiment))
            expected[customer]["touchpoints"] += 1
            expected[customer]["negative"] += sentiment == -0.8
    return records, expected


def counts(views: dict[str, dict[str, Any]]) -> dict[str, dict[str, int]]:
    return {
        c: {"touchpoints": v["experience"]["touchpoints"], "negative": v["experience"]["negative"],
            "version": v["version"]}
        for c, v in views.items()
    }  # fmt: skip


async def test_views_are_built_and_published(projection: Projection) -> None:
    records, expected = history(customers=20, per_customer=15)
    await projection.produce(records)
    worker = projection.start()
    try:
        views = await projection.wait_for_versions(len(records))
        assert counts(views) == expected
        published = await projection.published_views()
        assert published == views
    finally:
        await worker.stop()


async def test_duplicate_records_are_not_counted_twice(projection: Projection) -> None:
    records, expected = history(customers=10, per_customer=10)
    await projection.produce(records)
    await projection.produce(records)
    worker = projection.start()
    try:
        await projection.wait_for_versions(len(records))
        await projection.produce(records[:30])  # and again, after they were applied
        extra = record(records[0]["subject"], len(records) + 1, sentiment=0.5)
        await projection.produce([extra])
        expected[extra["subject"]]["touchpoints"] += 1
        expected[extra["subject"]]["version"] += 1
        views = await projection.wait_for_versions(len(records) + 1)
        assert counts(views) == expected
    finally:
        await worker.stop()


async def test_a_restarted_consumer_ends_with_exact_counts(projection: Projection) -> None:
    records, expected = history(customers=20, per_customer=20)
    await projection.produce(records[: len(records) // 2])
    worker = projection.start(batch_max_records=25)
    await projection.wait_for_versions(len(records) // 4)  # stopped somewhere mid-stream
    await worker.stop()
    await projection.produce(records[len(records) // 2 :])
    worker = projection.start()
    try:
        views = await projection.wait_for_versions(len(records))
        assert counts(views) == expected
    finally:
        await worker.stop()


async def test_a_broker_that_lost_its_data_is_read_again_without_double_counting(projection: Projection) -> None:
    records, expected = history(customers=10, per_customer=10)
    await projection.produce(records)
    worker = projection.start()
    try:
        await projection.wait_for_versions(len(records))
    finally:
        await worker.stop()
    # The broker restarts empty: the same topic name, no records, while PostgreSQL still holds offsets far past
    # its end. A fresh topic under the stored offsets' name is exactly what the consumer sees after that.
    async with projection.engine.begin() as connection:
        stored = (await connection.execute(text("SELECT count(*) FROM consumer_offsets"))).scalar()
        assert stored
        await connection.execute(
            text("UPDATE consumer_offsets SET topic = :fresh, next_offset = next_offset + 1000"),
            {"fresh": projection.settings.events_topic + "-new"},
        )
    fresh = projection.settings.events_topic + "-new"
    from services.cli.embedded import create_topics

    await create_topics(projection.bootstrap, {fresh: (4, {})})
    extra = record(records[0]["subject"], len(records) + 1, sentiment=-0.5)
    await projection.produce([*records, extra], topic=fresh)  # the experience service's relay re-sends all
    expected[extra["subject"]]["touchpoints"] += 1
    expected[extra["subject"]]["negative"] += 1
    expected[extra["subject"]]["version"] += 1
    worker = projection.start(events_topic=fresh)
    try:
        views = await projection.wait_for_versions(len(records) + 1)
        assert counts(views) == expected
    finally:
        await worker.stop()
