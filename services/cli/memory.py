"""`python -m services.cli.memory`: each service's resident memory as the number of customers grows.

State lives in PostgreSQL, so a service's memory should stay flat whether it serves ten thousand customers or a
million: what a worker keeps (its state cache, the time memo) is bounded by settings, not by the customer count.
This starts a fresh embedded system, brings the count of customers with a view up stage by stage (one touchpoint
each, in HTTP batches), and after each stage, once every view is on the view topic, reads each service's RSS
from /proc. A tool, not a test: it prints figures and asserts nothing.

Each stage is offered with the same bounded backlog: before each batch the tool waits until the events accepted but
not yet visible on the view topic would stay within `--backlog` after it. Without that (`--backlog 0`), enough
concurrent posters (`--clients`) offer a large stage faster than the workers fold it, their adaptive batches grow
towards their ceiling, and the figures measure that peak rather than the customer count.
"""

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from rich.console import Console
from rich.table import Table

from contracts.event_types import TOUCHPOINT_RECORDED
from services.cli.dev import DevOptions, DevSystem
from services.cli.embedded import free_port
from services.cli.memory_probe import Resident, ViewCounter, resident_mib, worker_one_batches

console = Console(highlight=False, soft_wrap=True, width=150)  # the table's seven columns, also into a file
BATCH = 1000
WAIT_S = 1800.0  # how long views may take to catch up before the run is declared stuck


@dataclass(frozen=True)
class Stage:
    customers: int
    seconds: float
    resident: dict[str, Resident]
    largest_backlog: int  # events accepted (202) but not yet visible on the view topic, the most seen
    events_per_batch: float | None  # worker 1's mean batch during the stage, from its /metrics


def touchpoint(customer: str, n: int) -> dict[str, Any]:
    return {
        "specversion": "1.0", "id": f"memory-{customer}-{n}", "source": "rapport/memory", "subject": customer,
        "type": TOUCHPOINT_RECORDED, "time": "2026-11-30T10:00:00+00:00",
        "data": {"customer_id": customer, "channel": "store", "kind": "visit", "sentiment": 0.5},
    }  # fmt: skip


async def offer(
    client: httpx.AsyncClient, counter: ViewCounter, made: int, stage: int, bound: int, clients: int
) -> tuple[int, int]:
    """New customers up to `stage`, one touchpoint each, from `clients` concurrent posters; returns the count made
    and the largest backlog seen. Visibility is the view topic's, not the events topic's end offsets (which lag on
    the embedded broker). One poster alone no longer outruns two workers, so it would never reach the bound."""
    reserved, accepted, largest = made, made, 0

    async def post_batches() -> None:
        nonlocal reserved, accepted, largest
        while reserved < stage:
            first, size = reserved, min(BATCH, stage - reserved)
            reserved += size
            if bound and not await counter.wait_for(first + size - bound, WAIT_S):
                raise SystemExit(f"views stopped at {len(counter.customers):,} of {first:,} customers")
            batch = [touchpoint(f"m-{n:07d}", 1) for n in range(first, first + size)]
            (await client.post("/v1/events", content=orjson.dumps(batch))).raise_for_status()
            accepted += size
            largest = max(largest, accepted - len(counter.customers))

    await asyncio.gather(*(post_batches() for _ in range(clients)))
    return stage, largest


async def grow(system: DevSystem, stages: list[int], bound: int, clients: int) -> list[Stage]:
    o = system.options
    counter = ViewCounter(system.broker.bootstrap)
    await counter.start()
    rows = [Stage(0, 0.0, resident_mib(system), 0, None)]
    headers = {"authorization": f"Bearer {system.api_key}", "content-type": "application/cloudevents-batch+json"}
    made = 0
    try:
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{o.experience_port}", timeout=60, headers=headers) as client,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{o.projection_port}", timeout=10) as projection,
        ):
            for stage in stages:
                started, (batches, applied) = time.monotonic(), await worker_one_batches(projection)
                made, largest = await offer(client, counter, made, stage, bound, clients)
                if not await counter.wait_for(stage, WAIT_S):
                    console.print(f"[red]only {len(counter.customers):,} of {stage:,} views arrived in time[/red]")
                await asyncio.sleep(2)  # let the batch in flight finish, so RSS is read at rest
                seconds = time.monotonic() - started
                batches_now, applied_now = await worker_one_batches(projection)
                per_batch = (applied_now - applied) / (batches_now - batches) if batches_now > batches else None
                rows.append(Stage(stage, seconds, resident_mib(system), largest, per_batch))
                rss = ", ".join(f"{name} {r.now:.0f}" for name, r in rows[-1].resident.items())
                console.print(f"{stage:,} customers: RSS MiB {rss}; largest backlog {largest:,}")
    finally:
        await counter.stop()
    return rows


def report(rows: list[Stage], bound: int, clients: int) -> None:
    names = sorted({name for row in rows for name in row.resident})
    offered = f"backlog bound {bound:,} events" if bound else "each stage offered all at once"
    offered += f", {clients} posting clients"
    table = Table(title=f"resident memory in MiB, now (peak since start), as customers grow; {offered}")
    table.add_column("customers with a view", justify="right")
    for name in names:
        table.add_column(name, justify="right")
    for heading in ("largest backlog", "worker 1 events per batch", "seconds for the stage"):
        table.add_column(heading, justify="right")
    for row in rows:
        found = [row.resident.get(name, Resident(0.0, 0.0)) for name in names]
        per_batch = f"{row.events_per_batch:,.0f}" if row.events_per_batch is not None else "-"
        cells = [f"{r.now:.0f} ({r.peak:.0f})" for r in found]
        table.add_row(f"{row.customers:,}", *cells, f"{row.largest_backlog:,}", per_batch, f"{row.seconds:.0f}")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.cli.memory")
    parser.add_argument("--stages", default="10000,100000,1000000", help="customer counts, comma-separated")
    parser.add_argument("--projection-workers", type=int, default=2)
    parser.add_argument(
        "--backlog", type=int, default=10_000,
        help=f"most events accepted but not yet visible, the same at every stage (at least {BATCH}); 0: all at once",
    )  # fmt: skip
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP posters")
    args = parser.parse_args()
    if args.clients < 1:
        parser.error("--clients must be at least 1")
    if args.backlog and args.backlog < BATCH:
        parser.error(f"--backlog must be 0 or at least one HTTP batch ({BATCH})")
    stages = [int(s) for s in args.stages.split(",")]
    with tempfile.TemporaryDirectory(prefix="rapport-memory-") as scratch:
        options = DevOptions(free_port(), free_port(), free_port(), Path(scratch) / "data", args.projection_workers)
        system = DevSystem(options)
        try:
            system.start()
            rows = asyncio.run(grow(system, stages, args.backlog, args.clients))
        finally:
            system.stop()
    report(rows, args.backlog, args.clients)


if __name__ == "__main__":
    main()
