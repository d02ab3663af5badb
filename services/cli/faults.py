"""`make faults`: the real system under injected faults, with a ledger of every acknowledged event and a verdict.

Run as `python -m services.cli.faults`; `--cycles 1 --events 200` is the short form `make test` runs.
"""

import asyncio
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from services.cli.faults_kafka import KafkaIngest
from services.cli.faults_ledger import Ledger, compare
from services.cli.faults_load import Ingest
from services.cli.faults_report import ScenarioResult, console, explain, table
from services.cli.faults_scenarios import SCENARIOS, FaultContext, Scenario
from services.cli.faults_stack import DevStack, start_stack
from services.cli.faults_views import read_views, version, wait_caught_up


@dataclass(frozen=True)
class FaultOptions:
    cycles: int = 3
    events: int = 1_000  # acknowledged events per cycle, at least
    customers: int = 40  # per scenario
    catch_up_timeout: float = 180.0
    only: tuple[str, ...] = ()  # scenario names (a word of each suffices); all when empty
    keep_data: bool = False


async def run_cycle(
    stack: DevStack, ingest: Ingest, scenario: Scenario, options: FaultOptions, result: ScenarioResult
) -> None:
    """Touchpoints flow; the fault lands mid-stream; the stream goes on until the cycle's events are acknowledged."""
    ledger = ingest.ledger
    start = ledger.total
    context = FaultContext(stack, ledger, options.events, start, result.notes, result.problems, ingest)
    stop = asyncio.Event()
    # bounded by time, not by count: a restart the fault waits for may take a minute
    load = asyncio.create_task(ingest.run(stop, limit=ingest.made + options.events + int(ingest.rate * 300)))
    try:
        await scenario.inject(context)
        context.base, context.events = ledger.total, ingest.batch * 3
        await context.acknowledged(1.0)  # ingest works again after the fault …
        context.base, context.events = start, options.events
        await context.acknowledged(1.0)  # … and the cycle carries its share
    finally:
        stop.set()
        await load


async def run_scenario(
    stack: DevStack, client: httpx.AsyncClient, scenario: Scenario, options: FaultOptions, seed: int
) -> ScenarioResult:
    run = uuid.uuid4().hex[:6]
    customers = [f"c-fault-{run}-{n:03d}" for n in range(options.customers)]
    ledger = Ledger()
    result = ScenarioResult(scenario.name, options.cycles, customers, ledger)
    ingest = load_for(scenario, stack, client, ledger, customers, seed)
    try:
        for cycle in range(1, options.cycles + 1):
            await run_cycle(stack, ingest, scenario, options, result)
            if not await healed(stack, client, ingest, options, result, probe=f"c-fault-{run}-probe-{cycle}"):
                result.problems.append(f"cycle {cycle}: views did not heal within {options.catch_up_timeout:.0f} s")
                result.cycles = cycle  # a next fault would land on a system that is already broken
                break
    finally:
        await ingest.close()
    await asyncio.sleep(1)  # a view counted twice shows right after the catch-up, or not at all
    views = await read_views(client, stack.projection, stack.auth, customers, ledger)
    expected = ledger.expected()
    verdict = compare({c: expected.get(c, 0) for c in customers}, {c: version(v) for c, v in views.items()})
    result.lost, result.counted_twice = verdict.lost, verdict.counted_twice
    return result


def load_for(
    scenario: Scenario, stack: DevStack, client: httpx.AsyncClient, ledger: Ledger, customers: list[str], seed: int
) -> Ingest:
    """The scenario's steady load: over HTTP, or produced to cx.intake.v1 as an upstream system publishes."""
    if scenario.via == "kafka":
        return KafkaIngest(client, stack.kafka_bootstrap(), ledger, customers, seed=seed, copies=scenario.copies)
    return Ingest(client, stack.experience, stack.auth, ledger, customers, seed=seed, copies=scenario.copies)


async def healed(
    stack: DevStack,
    client: httpx.AsyncClient,
    ingest: Ingest,
    options: FaultOptions,
    result: ScenarioResult,
    probe: str,
) -> bool:
    """After a cycle: the views catch up by themselves, then one fresh event shows (a consumer still rejoining
    its group, or a stuck relay, shows here); the slowest of each is what the table reports."""
    caught = await wait_caught_up(client, stack.projection, stack.auth, ingest.ledger, options.catch_up_timeout)
    result.caught_up_s = None if caught is None else max(caught, result.caught_up_s or 0.0)
    if caught is None:
        return False
    result.customers.append(probe)
    await ingest.send_one(probe)
    fresh = await wait_caught_up(client, stack.projection, stack.auth, ingest.ledger, options.catch_up_timeout, {probe})
    result.fresh_event_s = None if fresh is None else max(fresh, result.fresh_event_s or 0.0)
    return fresh is not None


async def check_rebuild(stack: DevStack, client: httpx.AsyncClient, result: ScenarioResult) -> None:
    """`rapport rebuild` while the system runs: every view of the scenario must come out of it as it went in."""
    scratch = Ledger()  # reads here must not book 5xx against the scenario: a rebuild is not a fault
    before = await read_views(client, stack.projection, stack.auth, result.customers, scratch)
    code, output = await asyncio.to_thread(stack.rebuild)
    if code != 0:
        result.problems.append(f"rapport rebuild failed: {output.strip()[-300:]}")
        return
    after = await read_views(client, stack.projection, stack.auth, result.customers, scratch)
    result.rebuild_changed = sum(1 for c in result.customers if after[c] != before[c])


def chosen(only: tuple[str, ...]) -> list[Scenario]:
    return [s for s in SCENARIOS if not only or any(word.lower() in s.name.lower() for word in only)]


async def run_faults(options: FaultOptions, workdir: Path) -> list[ScenarioResult]:
    results: list[ScenarioResult] = []
    stack: DevStack | None = None
    try:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=32)) as client:
            for seed, scenario in enumerate(chosen(options.only), start=1):
                if stack is None:  # a fresh system after one a scenario left broken, so it fails no other
                    stack = await asyncio.to_thread(start_stack, workdir / f"data-{seed}")
                    console.print(f"rapport dev up: {stack.experience}, {stack.projection}; log {stack.log}")
                console.print(f"[bold]{scenario.name}[/bold]: {options.cycles} cycle(s)")
                result = await run_scenario(stack, client, scenario, options, seed)
                await check_rebuild(stack, client, result)
                results.append(result)
                if not result.ok:
                    await asyncio.to_thread(stack.stop)
                    stack = None
    finally:
        if stack is not None:
            await asyncio.to_thread(stack.stop)
    return results


def main(
    cycles: Annotated[int, typer.Option(min=1, max=50, help="Times each fault is injected.")] = 3,
    events: Annotated[int, typer.Option(min=20, max=100_000, help="Acknowledged events per cycle, at least.")] = 1_000,
    customers: Annotated[int, typer.Option(min=1, max=10_000, help="Customers per scenario.")] = 40,
    catch_up_timeout: Annotated[float, typer.Option(help="Seconds views get to catch up by themselves.")] = 180,
    only: Annotated[list[str] | None, typer.Option(help="Run only scenarios whose name holds this word.")] = None,
    keep_data: Annotated[bool, typer.Option(help="Keep the data directory and logs.")] = False,
) -> None:
    """Inject faults into a real `rapport dev` and check that no acknowledged event is lost or counted twice."""
    options = FaultOptions(cycles, events, customers, catch_up_timeout, tuple(only or ()), keep_data)
    results, where = run_in_temp_dir(options)
    console.print(table(results))
    explain(results)
    if where:
        console.print(f"data and logs kept in {where}")
    raise typer.Exit(0 if results and all(r.ok for r in results) else 1)


def run_in_temp_dir(options: FaultOptions) -> tuple[list[ScenarioResult], Path | None]:
    """The suite on a fresh data directory, removed afterwards unless kept (or unless the suite failed)."""
    where = Path(tempfile.mkdtemp(prefix="rapport-faults-"))
    results: list[Any] = []
    try:
        results = asyncio.run(run_faults(options, where))
    finally:
        keep = options.keep_data or not results or not all(r.ok for r in results)
        if not keep:
            shutil.rmtree(where, ignore_errors=True)
    return results, where if keep else None


if __name__ == "__main__":
    typer.run(main)
