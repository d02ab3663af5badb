"""`rapport bench`: throughput and freshness end to end on a fresh embedded system, next to a naive baseline.

A tool, not a test: it prints figures and asserts nothing about them.
"""

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from rich.console import Console

from services.cli import cpu_meter
from services.cli.bench_floor import broker_floor
from services.cli.bench_paths import intake_backlog, read_your_writes
from services.cli.bench_report import report
from services.cli.dev import DevOptions, DevSystem
from services.cli.embedded import free_port
from services.cli.loadgen import TouchpointLoad
from services.cli.viewwatch import ViewWatcher
from services.projection.handlers.rebuild import RebuildReport
from services.projection.rebuild_root import rebuild_views
from services.projection.settings import ProjectionSettings

console = Console(highlight=False, soft_wrap=True)
BATCH = 500
BATCH_HEADERS = {"content-type": "application/cloudevents-batch+json"}


@dataclass(frozen=True)
class BenchOptions:
    events: int
    customers: int
    rate: int
    baseline_events: int
    projection_workers: int
    freshness_seconds: float = 10.0
    intake_events: int = 100_000  # offered at once on cx.intake.v1 (issue 9's backlog: 100k for 10k customers)
    intake_customers: int = 10_000


def machine_speed(rounds: int = 5) -> float:
    """Milliseconds for a fixed pure-Python workload (best of `rounds`): the same on every version of Rapport, so
    figures from different days can be scaled by it (these machines vary up to 3x from one day to the next)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        counts: dict[int, int] = {}
        total = 0
        for n in range(300_000):
            key = (n * 7919) % 1009
            counts[key] = counts.get(key, 0) + 1
            total += len(str(n)) ^ key
        best = min(best, time.perf_counter() - started)
    return best * 1000


async def post_batch(client: httpx.AsyncClient, events: list[dict[str, Any]]) -> float:
    response = await client.post("/v1/events", content=orjson.dumps(events), headers=BATCH_HEADERS)
    response.raise_for_status()
    return time.monotonic()


async def warm_up(url: str, key: str, watcher: ViewWatcher) -> float:
    """Seconds until a first small batch is visible on the view topic. A fresh system's projection workers are
    still joining their consumer group (the broker waits a few seconds for every member before it assigns
    partitions): timed runs start after that, so they measure the pipeline, not the group's first join."""
    load = TouchpointLoad(50, prefix="warm")
    events = [load.next_event()[0] for _ in range(200)]
    start = time.monotonic()
    async with httpx.AsyncClient(base_url=url, timeout=60, headers={"authorization": f"Bearer {key}"}) as client:
        await post_batch(client, events)
    await watcher.wait_until(dict(load.sent), timeout=120)
    return time.monotonic() - start


async def throughput(url: str, key: str, watcher: ViewWatcher, options: BenchOptions) -> dict[str, Any]:
    """Offer all events as fast as four clients can, and time until every view shows them."""
    load = TouchpointLoad(options.customers, prefix="tp")
    events = [load.next_event()[0] for _ in range(options.events)]
    batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)

    async def poster(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            await post_batch(client, queue.get_nowait())

    cpu_before = cpu_meter.snapshot()
    start = time.monotonic()
    async with httpx.AsyncClient(base_url=url, timeout=60, headers={"authorization": f"Bearer {key}"}) as client:
        await asyncio.gather(*(poster(client) for _ in range(4)))
    accepted = time.monotonic()
    complete = await watcher.wait_until(dict(load.sent), timeout=600)
    visible = time.monotonic()
    cpu = cpu_meter.spent(cpu_before, cpu_meter.snapshot())
    return {
        "events": len(events),
        "intake_eps": len(events) / (accepted - start),
        "end_to_end_eps": len(events) / (visible - start),
        "complete": float(complete),
        "seconds": visible - start,
        "cpu": cpu,
    }


async def freshness(url: str, key: str, watcher: ViewWatcher, options: BenchOptions) -> list[float]:
    """Offer a steady rate; for every event, the time from its 202 to its customer's view showing it."""
    load = TouchpointLoad(options.customers, prefix="fr", seed=11)
    tick = 0.05
    per_tick = max(1, int(options.rate * tick))
    accepted: list[tuple[str, int, float]] = []
    async with httpx.AsyncClient(base_url=url, timeout=30, headers={"authorization": f"Bearer {key}"}) as client:
        pending: set[asyncio.Task[None]] = set()
        start = time.monotonic()
        ticks = int(options.freshness_seconds / tick)
        for n in range(ticks):
            batch = [load.next_event() for _ in range(per_tick)]

            async def send(batch: list[tuple[dict[str, Any], str, int]] = batch) -> None:
                done = await post_batch(client, [event for event, _, _ in batch])
                accepted.extend((customer, version, done) for _, customer, version in batch)

            task = asyncio.create_task(send())
            pending.add(task)
            task.add_done_callback(pending.discard)
            await asyncio.sleep(max(0.0, start + (n + 1) * tick - time.monotonic()))
        await asyncio.gather(*pending)
    await watcher.wait_until(dict(load.sent), timeout=120)
    latencies = []
    for customer, version, done in accepted:
        seen = watcher.seen_at(customer, version)
        if seen is not None:
            latencies.append(max(0.0, seen - done) * 1000)
    return latencies


SERIES = [
    "rapport_events_accepted_total",
    "rapport_events_rejected_total",
    "rapport_events_dead_lettered_total",
    "rapport_events_relayed_total",
    "rapport_relay_backlog",
    "rapport_projection_batches_total",
    "rapport_projection_events_applied_total",
    "rapport_projection_duplicates_skipped_total",
    "rapport_projection_lag",
    "rapport_projection_batch_seconds_count",
    "rapport_projection_freshness_seconds_count",
]


async def scrape(urls: list[str], key: str) -> dict[str, float]:
    """Totals of the series an operator watches, as the services' own /metrics report them."""
    totals = dict.fromkeys(SERIES, 0.0)
    async with httpx.AsyncClient(timeout=10, headers={"authorization": f"Bearer {key}"}) as client:
        for url in urls:
            for line in (await client.get(f"{url}/metrics")).text.splitlines():
                name = line.split("{", 1)[0].split(" ", 1)[0]
                if name in totals:
                    totals[name] += float(line.rsplit(" ", 1)[1])
    return totals


async def rebuild(system: DevSystem, url: str) -> RebuildReport:
    settings = ProjectionSettings(
        database_url=system.postgres.url("rapport"), kafka_bootstrap=system.broker.bootstrap,
        event_log_url=url, event_log_api_key=system.api_key,
    )  # fmt: skip
    return await rebuild_views(settings)


async def measure(system: DevSystem, options: BenchOptions) -> dict[str, Any]:
    url = f"http://127.0.0.1:{system.options.experience_port}"
    machine_ms = machine_speed()
    watcher = ViewWatcher(system.broker.bootstrap)
    await watcher.start()
    try:
        console.print(f"throughput: {options.events:,} touchpoints for {options.customers:,} customers …")
        result: dict[str, Any] = {"machine_ms": machine_ms, "warm_up_s": await warm_up(url, system.api_key, watcher)}
        result["throughput"] = await throughput(url, system.api_key, watcher, options)
        console.print(f"broker floor: bare produce→consume at {options.rate:,}/s …")
        result["floor"] = await broker_floor(system.broker.bootstrap, options.rate, options.freshness_seconds)
        console.print(f"freshness: {options.rate:,} events/s for {options.freshness_seconds:.0f} s …")
        result["freshness"] = await freshness(url, system.api_key, watcher, options)
        projection = f"http://127.0.0.1:{system.options.projection_port}"
        console.print(f"read-your-writes over HTTP: {options.rate:,} events/s for {options.freshness_seconds:.0f} s …")
        result["read_your_writes"] = await read_your_writes(
            url, projection, system.api_key, options.customers, options.rate, options.freshness_seconds
        )
        console.print(
            f"Kafka intake: {options.intake_events:,} touchpoints for {options.intake_customers:,} customers …"
        )
        result["intake"] = await intake_backlog(
            system.broker.bootstrap, watcher, options.intake_events, options.intake_customers
        )
        result["metrics"] = await scrape([url, f"http://127.0.0.1:{system.options.projection_port}"], system.api_key)
        console.print("rebuild: the whole event store into fresh views, while the system runs …")
        result["rebuild"] = await rebuild(system, url)
    finally:
        await watcher.stop()
    return result


def run_bench(options: BenchOptions) -> None:
    from services.cli.baseline import naive_projection

    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as scratch:
        dev = DevOptions(free_port(), free_port(), free_port(), Path(scratch) / "data", options.projection_workers)
        system = DevSystem(dev)
        try:
            system.start()
            result = asyncio.run(measure(system, options))
            console.print(f"naive baseline: {options.baseline_events:,} events, one transaction each …")
            baseline = asyncio.run(naive_projection(system, options.baseline_events))
        finally:
            system.stop()
    report(result, baseline, options)
