"""What the memory tool reads while it grows the system: views on the topic, each service's RSS, worker 1's batches."""

import asyncio
import time
from dataclasses import dataclass

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import topics
from services.cli.dev import DevSystem

LABELS = {"experience": "experience", "projection": "projection API + worker 1"}


@dataclass(frozen=True)
class Resident:
    """A process's resident set now and its high-water mark since it started, in MiB."""

    now: float
    peak: float


def resident_mib(system: DevSystem) -> dict[str, Resident]:
    """RSS of this system's own service processes, by pid: other systems on the machine run the same commands."""
    found: dict[str, Resident] = {}
    for child in system.children:
        label = LABELS.get(child.name) or _worker_label(child.name)
        fields: dict[str, float] = {}
        try:
            for line in open(f"/proc/{child.pid}/status").read().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    fields[key] = int(value.split()[0]) / 1024
        except OSError:
            continue
        found[label] = Resident(fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0))
    return found


def _worker_label(name: str) -> str:
    # `rapport dev` names its extra workers projection-worker-1, -2, ...; the API process holds worker 1
    return f"projection worker {int(name.rsplit('-', 1)[-1]) + 1}"


async def worker_one_batches(client: httpx.AsyncClient) -> tuple[float, float]:
    """Batches committed and events folded so far by the worker inside the projection API process (/metrics)."""
    text = (await client.get("/metrics")).text
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("rapport_projection_batches_total", "rapport_projection_events_applied_total"):
            values[name] = float(value)
    return values.get("rapport_projection_batches_total", 0.0), values.get(
        "rapport_projection_events_applied_total", 0.0
    )


class ViewCounter:
    """Counts the distinct customers whose view has reached the view topic (a compacted topic: keys, not values)."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self.customers: set[bytes] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50,
                                    max_partition_fetch_bytes=8 * 1024 * 1024)  # fmt: skip
        await consumer.start()
        await consumer.topics()
        partitions = [TopicPartition(topics.CUSTOMER_VIEWS, p)
                      for p in sorted(consumer.partitions_for_topic(topics.CUSTOMER_VIEWS) or [])]  # fmt: skip
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        self._task = asyncio.create_task(self._run(consumer))

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                for records in (await consumer.getmany(timeout_ms=100, max_records=20_000)).values():
                    self.customers.update(r.key for r in records if r.key is not None)
        finally:
            await consumer.stop()

    async def wait_for(self, count: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while len(self.customers) < count:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
