"""Publishes whole customer views to the compacted view topic, keyed by customer id."""

import asyncio
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer


def create_producer(bootstrap: str, idempotent: bool) -> AIOKafkaProducer:
    # Views are small and come in bursts of a batch: linger briefly and batch large so a batch is few requests.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=idempotent,
        linger_ms=2,
        max_batch_size=1024 * 1024,
        max_request_size=8 * 1024 * 1024,
    )


class KafkaViewPublisher:
    """Whole views keyed by their id field; a tombstone (null value) says the key's view is gone for good."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, key_field: str = "customer_id") -> None:
        self._producer = producer
        self._topic = topic
        self._key_field = key_field

    async def publish(self, views: list[dict[str, Any]]) -> None:
        """Send every view and return once the broker acknowledged all of them."""
        key = self._key_field
        deliveries = [
            await self._producer.send(self._topic, value=orjson.dumps(view), key=view[key].encode()) for view in views
        ]
        await asyncio.gather(*deliveries)

    async def publish_tombstones(self, keys: list[str]) -> None:
        deliveries = [await self._producer.send(self._topic, value=None, key=key.encode()) for key in keys]
        await asyncio.gather(*deliveries)
