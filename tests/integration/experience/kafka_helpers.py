"""Reading and waiting on the real broker in tests: partitions assigned directly, polled with a deadline."""

import asyncio
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from services.cli.embedded import create_topics


async def make_topic(bootstrap: str, name: str, partitions: int = 4) -> str:
    await create_topics(bootstrap, {name: (partitions, {})})
    return name


async def read_topic(bootstrap: str, topic: str, count: int, timeout_s: float = 20.0) -> list[ConsumerRecord]:
    """At least `count` records from the start of every partition (fails when they do not arrive in time)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(await _partitions(consumer, topic))]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[ConsumerRecord] = []
        async with asyncio.timeout(timeout_s):
            while len(records) < count:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    records.extend(batch)
        # Anything more that is already there (a duplicate the test must see) arrives within one more poll.
        for batch in (await consumer.getmany(timeout_ms=300)).values():
            records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    async with asyncio.timeout(10):
        while not (found := consumer.partitions_for_topic(topic)):
            await consumer.topics()
            await asyncio.sleep(0.1)
    return found


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 20.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not await check():  # noqa: ASYNC110 - the checks read PostgreSQL and Kafka, nothing to await
            await asyncio.sleep(0.05)
