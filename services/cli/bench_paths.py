"""The bench's two other ways in and out: a backlog offered on the Kafka intake (cx.intake.v1) instead of HTTP,
and read-your-writes over HTTP (a reader that asks for its own write by `min_position`) instead of the view topic.
"""

import asyncio
import time
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaProducer

from contracts import topics
from services.cli.loadgen import TouchpointLoad
from services.cli.viewwatch import ViewWatcher
from services.common.kafka_send import send_batched

BATCH_HEADERS = {"content-type": "application/cloudevents-batch+json"}


async def intake_backlog(bootstrap: str, watcher: ViewWatcher, events: int, customers: int) -> dict[str, float]:
    """Produce `events` touchpoints to cx.intake.v1 at once, as an upstream team's backlog would arrive, and time
    until every view shows them: intake consumer, event store, relay, projection and view topic."""
    load = TouchpointLoad(customers, prefix="kin", seed=29)
    records = []
    for _ in range(events):
        event, customer, _ = load.next_event()
        records.append((customer.encode(), orjson.dumps(event), None))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, linger_ms=5)
    await producer.start()
    start = time.monotonic()
    try:
        for first in range(0, len(records), 5000):
            await send_batched(producer, topics.INTAKE, records[first : first + 5000])
    finally:
        await producer.stop()
    produced = time.monotonic()
    complete = await watcher.wait_until(dict(load.sent), timeout=900)
    visible = time.monotonic()
    return {
        "events": float(events), "customers": float(customers), "produce_s": produced - start,
        "end_to_end_eps": events / (visible - start), "complete": float(complete),
    }  # fmt: skip


async def read_your_writes(
    experience: str, projection: str, key: str, customers: int, rate: int, seconds: float
) -> list[float]:
    """At a steady `rate`, in batches, a reader per batch asks one of its customers' views with `min_position`:
    milliseconds from the 202 to an answer that says the write was reached (timed-out answers are left out and
    counted by the caller as missing samples)."""
    load = TouchpointLoad(customers, prefix="ryw", seed=31)
    tick = 0.05
    per_tick = max(1, int(rate * tick))
    latencies: list[float] = []
    headers = {"authorization": f"Bearer {key}"}
    async with (
        httpx.AsyncClient(base_url=experience, timeout=30, headers=headers) as writer,
        httpx.AsyncClient(base_url=projection, timeout=30, headers=headers) as reader,
    ):
        writes: list[asyncio.Task[None]] = []

        async def write_then_read(batch: list[dict[str, Any]]) -> None:
            response = await writer.post("/v1/events", content=orjson.dumps(batch), headers=BATCH_HEADERS)
            response.raise_for_status()
            accepted = time.monotonic()
            customer, position = next(iter(response.json()["positions"].items()))
            answer = await reader.get(f"/v1/customers/{customer}", params={"min_position": position})
            if answer.headers.get("rapport-min-position") == "reached":
                latencies.append((time.monotonic() - accepted) * 1000)

        start = time.monotonic()
        for n in range(int(seconds / tick)):
            writes.append(asyncio.create_task(write_then_read([load.next_event()[0] for _ in range(per_tick)])))
            await asyncio.sleep(max(0.0, start + (n + 1) * tick - time.monotonic()))
        await asyncio.gather(*writes)
    return latencies
