"""The view publisher contract against the real KafkaViewPublisher, on a fresh compacted topic of a real broker."""

import time
from collections.abc import AsyncIterator, Callable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.cli.embedded import create_topics
from services.projection.adapters.ports import ViewPublisher
from services.projection.adapters.view_publisher import KafkaViewPublisher, create_producer
from tests.integration.projection.conftest import PARTITIONS
from tests.unit.projection.view_publisher_contract import Seen, ViewPublisherContract

pytestmark = pytest.mark.integration

READ_TIMEOUT_S = 15.0


class KafkaTopic:
    def __init__(self, bootstrap: str, name: str, producer: AIOKafkaProducer) -> None:
        self._bootstrap, self._name, self._producer = bootstrap, name, producer

    def publisher(self, personal_data: bool = False) -> ViewPublisher:
        return KafkaViewPublisher(self._producer, self._name, personal_data=personal_data)

    async def latest(self, records: int) -> dict[str, Seen]:
        # Read until the records are seen, not to the end offsets: the embedded broker's lag what a fetch returns.
        # Partitions assigned directly: a consumer group's join would be most of the test's time.
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [TopicPartition(self._name, p) for p in range(PARTITIONS)]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            latest: dict[str, Seen] = {}
            count, deadline = 0, time.monotonic() + READ_TIMEOUT_S
            while count < records and time.monotonic() < deadline:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    for record in batch:
                        latest[record.key.decode()] = Seen(record.value, dict(record.headers))
                        count += 1
            assert count == records, f"saw {count} of {records} records"
            return latest
        finally:
            await consumer.stop()


class TestKafkaViewPublisher(ViewPublisherContract):
    @pytest.fixture
    async def topic(self, kafka_bootstrap: str, topic_names: Callable[[str], str]) -> AsyncIterator[KafkaTopic]:
        name = topic_names("views")
        await create_topics(kafka_bootstrap, {name: (PARTITIONS, {"cleanup.policy": "compact"})})
        producer = create_producer({"bootstrap_servers": kafka_bootstrap}, idempotent=False)
        await producer.start()
        try:
            yield KafkaTopic(kafka_bootstrap, name, producer)
        finally:
            await producer.stop()
