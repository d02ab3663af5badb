"""The record producer contract, against the real producer on the test broker."""

from collections.abc import AsyncIterator, Callable

import pytest

from services.experience.adapters.kafka import KafkaRecordProducer

from ...unit.experience.producer_contract import RecordProducerContract
from .kafka_helpers import make_topic

pytestmark = pytest.mark.integration


class TestKafkaRecordProducer(RecordProducerContract):
    @pytest.fixture
    async def producer(self, kafka_bootstrap: str) -> AsyncIterator[KafkaRecordProducer]:
        producer = KafkaRecordProducer(kafka_bootstrap, idempotence=False, linger_ms=2)
        await producer.start()
        yield producer
        await producer.stop()

    @pytest.fixture
    async def topic(self, kafka_bootstrap: str, topic_names: Callable[[str], str]) -> str:
        return await make_topic(kafka_bootstrap, topic_names("records"))
