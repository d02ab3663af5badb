"""The naive projection the benchmark compares against: the same fold, but one transaction per event."""

import time
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from contracts import topics
from services.cli.dev import DevSystem
from services.cli.embedded import ensure_database
from services.projection.domain import CustomerState, FoldRules, event_from_record, fold, render_view

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS naive_views (customer_id text PRIMARY KEY, position bigint, state jsonb, view jsonb)",
    "CREATE TABLE IF NOT EXISTS naive_timeline (event_id text PRIMARY KEY, customer_id text, entry jsonb)",
]
LOAD = text("SELECT state FROM naive_views WHERE customer_id = :c FOR UPDATE")
SAVE = text(
    "INSERT INTO naive_views VALUES (:c, :p, CAST(:s AS jsonb), CAST(:v AS jsonb)) ON CONFLICT (customer_id) "
    "DO UPDATE SET position = excluded.position, state = excluded.state, view = excluded.view"
)
TIMELINE = text("INSERT INTO naive_timeline VALUES (:e, :c, CAST(:j AS jsonb)) ON CONFLICT DO NOTHING")


async def read_events(bootstrap: str, count: int) -> list[Any]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(topics.EVENTS, p) for p in consumer.partitions_for_topic(topics.EVENTS) or []]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        events: list[Any] = []
        while len(events) < count:
            batch = await consumer.getmany(timeout_ms=1000, max_records=count)
            if not batch:
                break
            events.extend(event_from_record(orjson.loads(r.value)) for rs in batch.values() for r in rs)
        return events[:count]
    finally:
        await consumer.stop()


async def naive_projection(system: DevSystem, count: int) -> dict[str, float]:
    """Fold `count` events already on cx.events.v1 into a scratch database, each in its own transaction."""
    url = system.postgres.url("rapport_naive_baseline")
    await ensure_database(url)
    engine = create_async_engine(url)
    rules = FoldRules()
    events = await read_events(system.broker.bootstrap, count)
    async with engine.begin() as conn:
        for statement in SCHEMA:
            await conn.execute(text(statement))
    start = time.monotonic()
    for event in events:
        async with engine.begin() as conn:
            row = (await conn.execute(LOAD, {"c": event.customer_id})).first()
            state = CustomerState.from_json(row[0]) if row else CustomerState(event.customer_id)
            result = fold(state, [event], rules)
            await conn.execute(
                SAVE,
                {
                    "c": state.customer_id,
                    "p": state.position,
                    "s": orjson.dumps(state.to_json()).decode(),
                    "v": orjson.dumps(render_view(state)).decode(),
                },
            )
            for entry in result.timeline:
                await conn.execute(
                    TIMELINE, {"e": entry["event_id"], "c": state.customer_id, "j": orjson.dumps(entry).decode()}
                )
    elapsed = time.monotonic() - start
    await engine.dispose()
    return {"events": len(events), "eps": len(events) / elapsed if elapsed else 0.0}
