"""A migrated database, fresh topics and a running projection worker for the projection's integration tests."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.cli.embedded import create_topics, ensure_database
from services.projection.adapters.database import create_engine
from services.projection.adapters.documents import decode
from services.projection.adapters.migrate import migrate
from services.projection.bootstrap import Worker, start_worker
from services.projection.settings import ProjectionSettings

PARTITIONS = 4


@dataclass
class Projection:
    settings: ProjectionSettings
    engine: AsyncEngine
    bootstrap: str

    def start(self, **overrides: Any) -> Worker:
        return start_worker(self.settings.model_copy(update=overrides))

    async def produce(self, records: list[dict[str, Any]], topic: str | None = None) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=False, linger_ms=5)
        await producer.start()
        try:
            sends = [
                await producer.send(topic or self.settings.events_topic, orjson.dumps(r), key=r["subject"].encode())
                for r in records
            ]
            await asyncio.gather(*sends)
        finally:
            await producer.stop()

    async def views(self) -> dict[str, dict[str, Any]]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(text("SELECT customer_id, view FROM customer_views"))
            return {row.customer_id: decode(row.view) for row in rows}

    async def wait_for_versions(self, total: int, timeout: float = 30.0) -> dict[str, dict[str, Any]]:
        """Poll until the views have applied `total` events in all; return them."""
        deadline = time.monotonic() + timeout
        while True:
            views = await self.views()
            applied = sum(v["version"] for v in views.values())
            if applied >= total or time.monotonic() > deadline:
                return views
            await asyncio.sleep(0.1)

    async def latest_records(self, topic: str | None = None) -> dict[str, ConsumerRecord]:
        """The latest record per key on the view topic, read from the beginning to the current end."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [TopicPartition(topic or self.settings.views_topic, p) for p in range(PARTITIONS)]
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            await consumer.seek_to_beginning(*partitions)
            latest: dict[str, ConsumerRecord] = {}
            while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        latest[record.key.decode()] = record
            return latest
        finally:
            await consumer.stop()

    async def published_views(self, topic: str | None = None) -> dict[str, dict[str, Any]]:
        """The latest view per key on the view topic (None: a tombstone)."""
        latest = await self.latest_records(topic)
        return {key: None if r.value is None else orjson.loads(r.value) for key, r in latest.items()}


async def fresh_database(server_url: str) -> str:
    """A new empty database beside `server_url`'s; the name goes before the query, which may hold a socket path."""
    base, _, query = server_url.partition("?")
    url = f"{base.rsplit('/', 1)[0]}/p_{uuid.uuid4().hex[:12]}" + (f"?{query}" if query else "")
    await ensure_database(url)
    return url


@pytest.fixture
async def projection(
    postgres_server_url: str, kafka_bootstrap: str, topic_names: Callable[[str], str]
) -> AsyncIterator[Projection]:
    database_url = await fresh_database(postgres_server_url)
    await migrate(database_url)
    events, views, accounts = topic_names("events"), topic_names("views"), topic_names("accounts")
    compacted = {"cleanup.policy": "compact"}
    topics = {events: (PARTITIONS, {}), views: (PARTITIONS, compacted), accounts: (PARTITIONS, compacted)}
    await create_topics(kafka_bootstrap, topics)
    settings = ProjectionSettings(
        environment="test", database_url=database_url, kafka_bootstrap=kafka_bootstrap,
        consumer_group=f"projection-{uuid.uuid4().hex[:8]}", events_topic=events, views_topic=views,
        account_views_topic=accounts,
    )  # fmt: skip
    engine = create_engine(database_url)
    yield Projection(settings, engine, kafka_bootstrap)
    await engine.dispose()
