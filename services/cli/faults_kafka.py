"""The fault suite's Kafka client: touchpoints produced to cx.intake.v1 as an upstream system publishes them.

An event is booked in the ledger once the broker acknowledged the record (acks=all); a record the producer could
not get acknowledged is produced again, as a careful upstream would, so the intake may see it twice and must
store it once.
"""

import asyncio
import time
from collections import defaultdict
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaProducer

from contracts import topics
from services.cli.faults_ledger import Ledger
from services.cli.faults_load import Ingest


class KafkaIngest(Ingest):
    """Ingest's load and pacing, delivered to cx.intake.v1 instead of `POST /v1/events`."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        bootstrap: str,
        ledger: Ledger,
        customers: list[str],
        *,
        seed: int,
        copies: tuple[int, int] = (1, 1),
    ) -> None:
        super().__init__(client, "kafka", {}, ledger, customers, seed=seed, copies=copies)
        self.bootstrap = bootstrap
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()

    async def deliver(self, batch: list[dict[str, Any]]) -> None:
        pending = batch
        deadline = time.monotonic() + self.give_up_after
        while pending and time.monotonic() < deadline:
            producer = await self._started()
            outcomes = await asyncio.gather(*(self._send(producer, e) for e in pending), return_exceptions=True)
            self._book([e for e, failed in zip(pending, outcomes, strict=True) if failed is None])
            pending = [e for e, failed in zip(pending, outcomes, strict=True) if failed is not None]
            if pending:
                self.ledger.retried += 1
                await asyncio.sleep(0.5)
        self.ledger.undelivered += len(pending)

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def _started(self) -> AIOKafkaProducer:
        async with self._starting:
            if self._producer is None:
                # no idempotent producer: the embedded broker does not offer it, and the intake dedupes by id
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=False, linger_ms=5
                )
                await producer.start()
                self._producer = producer
            return self._producer

    @staticmethod
    async def _send(producer: AIOKafkaProducer, event: dict[str, Any]) -> None:
        key = str(event["data"]["customer_id"]).encode()
        await asyncio.wait_for(producer.send_and_wait(topics.INTAKE, orjson.dumps(event), key=key), timeout=45)

    def _book(self, sent: list[dict[str, Any]]) -> None:
        by_customer: dict[str, list[str]] = defaultdict(list)
        for event in sent:
            by_customer[event["data"]["customer_id"]].append(event["id"])
        self.ledger.acknowledge(by_customer, {"accepted": [e["id"] for e in sent]})
