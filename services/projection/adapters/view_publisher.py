"""Publishes whole customer views to the compacted view topic, keyed by customer id."""

from collections.abc import Mapping
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from services.common.kafka_send import send_batched
from services.projection.adapters.ports import ViewPublisher
from services.projection.domain.tracing import TRACEPARENT


def create_producer(client_options: dict[str, Any], idempotent: bool) -> AIOKafkaProducer:
    """`client_options`: bootstrap servers and security, from kafka_client_options()."""
    # Views are small and come in bursts of a batch: linger briefly and batch large so a batch is few requests.
    return AIOKafkaProducer(
        **client_options,
        acks="all",
        enable_idempotence=idempotent,
        linger_ms=2,
        max_batch_size=1024 * 1024,
        max_request_size=8 * 1024 * 1024,
    )


class KafkaViewPublisher(ViewPublisher):
    """Whole views keyed by their id field; a tombstone (null value) says the key's view is gone for good."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, key_field: str = "customer_id") -> None:
        self._producer = producer
        self._topic = topic
        self._key_field = key_field

    async def publish(
        self, views: list[dict[str, Any]], traceparents: Mapping[str, str] | None = None,
        serialised: list[bytes] | None = None,
    ) -> None:  # fmt: skip
        """Send every view and return once the broker acknowledged all of them. A view whose key has a
        traceparent (the latest one its events carried) goes out with it as a header, continuing the trace.
        `serialised`, when given, holds each view's JSON already (the batch made it for storage)."""
        key, traces = self._key_field, traceparents or {}
        values = serialised if serialised is not None else [orjson.dumps(view) for view in views]
        records = []
        for view, value in zip(views, values, strict=True):
            view_key = view[key]
            traceparent = traces.get(view_key)
            records.append(
                (view_key.encode(), value, None if traceparent is None else [(TRACEPARENT, traceparent.encode())])
            )
        await send_batched(self._producer, self._topic, records)

    async def publish_tombstones(self, keys: list[str]) -> None:
        await send_batched(self._producer, self._topic, [(key.encode(), None, None) for key in keys])
