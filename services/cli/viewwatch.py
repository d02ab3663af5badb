"""Watches the customer-view topic and remembers when each customer's view reached each version."""

import asyncio
import bisect
import time
from collections import defaultdict

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import topics


class ViewWatcher:
    """Reads cx.customer-views.v1 from its current end; `seen_at(c, v)` answers when version v became visible."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.history: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            fetch_max_wait_ms=10,
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        await consumer.start()
        await consumer.topics()
        partitions = [
            TopicPartition(topics.CUSTOMER_VIEWS, p)
            for p in sorted(consumer.partitions_for_topic(topics.CUSTOMER_VIEWS) or [])
        ]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:  # resolve the lazy seek now, so views published from here on are all read
            await consumer.position(tp)
        self._consumer = consumer
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batch = await self._consumer.getmany(timeout_ms=50, max_records=10_000)
            now = time.monotonic()
            for records in batch.values():
                for record in records:
                    if record.key is None or record.value is None:
                        continue
                    versions, times = self.history[record.key.decode()]
                    version = orjson.loads(record.value)["version"]
                    if not versions or version > versions[-1]:
                        versions.append(version)
                        times.append(now)

    def version(self, customer: str) -> int:
        versions = self.history[customer][0]
        return versions[-1] if versions else 0

    def seen_at(self, customer: str, version: int) -> float | None:
        versions, times = self.history[customer]
        index = bisect.bisect_left(versions, version)
        return times[index] if index < len(times) else None

    async def wait_until(self, expected: dict[str, int], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.version(c) >= v for c, v in expected.items()):
                return True
            await asyncio.sleep(0.05)
        return False

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer:
            await self._consumer.stop()
