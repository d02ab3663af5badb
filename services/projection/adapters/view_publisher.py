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
    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def publish(self, views: list[dict[str, Any]]) -> None:
        """Send every view and return once the broker acknowledged all of them."""
        deliveries = [
            await self._producer.send(self._topic, value=orjson.dumps(view), key=view["customer_id"].encode())
            for view in views
        ]
        await asyncio.gather(*deliveries)
