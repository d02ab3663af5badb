"""`python -m services.cli.memory`: each service's resident memory as the number of customers grows.

State lives in PostgreSQL, so a service's memory should stay flat whether it serves ten thousand customers or a
million: what a worker keeps (its state cache, the time memo) is bounded by settings, not by the customer count.
This starts a fresh embedded system, brings the count of customers with a view up stage by stage (one touchpoint
each, in HTTP batches), and after each stage, once every view is on the view topic, reads each service's RSS
from /proc. A tool, not a test: it prints figures and asserts nothing.
"""

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from rich.console import Console
from rich.table import Table

from contracts import topics
from contracts.event_types import TOUCHPOINT_RECORDED
from services.cli.dev import DevOptions, DevSystem
from services.cli.embedded import free_port

console = Console(highlight=False, soft_wrap=True)
SERVICES = {
    "services.experience serve": "experience",
    "services.projection serve": "projection API + worker 1",
    "services.projection worker": "projection worker 2",
}
BATCH = 1000


def resident_mib() -> dict[str, float]:
    """Each service process's resident set size in MiB, from /proc/PID/status."""
    found: dict[str, float] = {}
    for pid in Path("/proc").iterdir():
        if not pid.name.isdigit():
            continue
        try:
            command = (pid / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            name = next((label for pattern, label in SERVICES.items() if pattern in command), None)
            if name is None:
                continue
            for line in (pid / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    found[name] = found.get(name, 0.0) + int(line.split()[1]) / 1024
        except OSError:
            continue
    return found


class ViewCounter:
    """Counts the distinct customers whose view has reached the view topic (a compacted topic: keys, not values)."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self.customers: set[bytes] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False,
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
            await asyncio.sleep(0.2)
        return True

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


def touchpoint(customer: str, n: int) -> dict[str, Any]:
    return {
        "specversion": "1.0", "id": f"memory-{customer}-{n}", "source": "rapport/memory", "subject": customer,
        "type": TOUCHPOINT_RECORDED, "time": "2026-11-30T10:00:00+00:00",
        "data": {"customer_id": customer, "channel": "store", "kind": "visit", "sentiment": 0.5},
    }  # fmt: skip


async def grow(system: DevSystem, stages: list[int]) -> list[tuple[int, float, dict[str, float]]]:
    url = f"http://127.0.0.1:{system.options.experience_port}"
    counter = ViewCounter(system.broker.bootstrap)
    await counter.start()
    rows: list[tuple[int, float, dict[str, float]]] = [(0, 0.0, resident_mib())]
    headers = {"authorization": f"Bearer {system.api_key}", "content-type": "application/cloudevents-batch+json"}
    made = 0
    try:
        async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as client:
            for stage in stages:
                started = time.monotonic()
                while made < stage:
                    batch = [touchpoint(f"m-{n:07d}", 1) for n in range(made, min(stage, made + BATCH))]
                    (await client.post("/v1/events", content=orjson.dumps(batch))).raise_for_status()
                    made += len(batch)
                if not await counter.wait_for(stage, timeout_s=1800):
                    console.print(f"[red]only {len(counter.customers):,} of {stage:,} views arrived in time[/red]")
                await asyncio.sleep(2)  # let the batch in flight finish, so RSS is read at rest
                rows.append((stage, time.monotonic() - started, resident_mib()))
                console.print(f"{stage:,} customers: {rows[-1][2]}")
    finally:
        await counter.stop()
    return rows


def report(rows: list[tuple[int, float, dict[str, float]]]) -> None:
    names = sorted({name for _, _, found in rows for name in found})
    table = Table(title="resident memory (MiB) as customers grow")
    table.add_column("customers with a view", justify="right")
    for name in names:
        table.add_column(name, justify="right")
    table.add_column("seconds for the stage", justify="right")
    for customers, seconds, found in rows:
        table.add_row(f"{customers:,}", *(f"{found.get(name, 0):.0f}" for name in names), f"{seconds:.0f}")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.cli.memory")
    parser.add_argument("--stages", default="10000,100000,1000000", help="customer counts, comma-separated")
    parser.add_argument("--projection-workers", type=int, default=2)
    args = parser.parse_args()
    stages = [int(s) for s in args.stages.split(",")]
    with tempfile.TemporaryDirectory(prefix="rapport-memory-") as scratch:
        options = DevOptions(free_port(), free_port(), free_port(), Path(scratch) / "data", args.projection_workers)
        system = DevSystem(options)
        try:
            system.start()
            rows = asyncio.run(grow(system, stages))
        finally:
            system.stop()
    report(rows)


if __name__ == "__main__":
    main()
