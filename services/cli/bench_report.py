"""The benchmark's report: the figures `rapport bench` measured, printed as tables next to the naive baseline."""

import statistics
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from services.projection.handlers.rebuild import RebuildReport

if TYPE_CHECKING:  # the bench imports this module to print its figures, so only the type checker imports it back
    from services.cli.bench import BenchOptions

console = Console(highlight=False, soft_wrap=True)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load_share(rate: float, capacity: float) -> str:
    """How busy the freshness run kept the system. The rate is fixed so runs compare, but on a slow machine it can
    come near the end-to-end capacity, and then the latencies measure queueing more than the path."""
    share = rate / capacity if capacity > 0 else float("inf")
    note = " [yellow](near capacity: latencies are mostly queueing)[/yellow]" if share > 0.5 else ""
    return f"{share:.0%}{note}"


def report(result: dict[str, Any], baseline: dict[str, float], options: "BenchOptions") -> None:
    t = result["throughput"]
    table = Table(title=f"Rapport benchmark ({options.projection_workers} projection workers)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("machine speed: fixed pure-Python workload (lower is faster)", f"{result['machine_ms']:.0f} ms")
    table.add_row("first views visible on a fresh system (consumer group join)", f"{result['warm_up_s']:.1f} s")
    table.add_row("intake (HTTP batches of 500 → event store)", f"{t['intake_eps']:,.0f} events/s")
    table.add_row("end to end (intake → views → view topic)", f"{t['end_to_end_eps']:,.0f} events/s")
    table.add_row("naive baseline: one transaction per event", f"{baseline['eps']:,.0f} events/s")
    table.add_row("speed-up over the naive baseline", f"{t['end_to_end_eps'] / baseline['eps']:.1f}x")
    fresh, floor = result["freshness"], result["floor"]
    table.add_row(
        f"freshness at {options.rate:,}/s, 202 → visible: p50 / p99",
        f"{percentile(fresh, 0.5):.0f} / {percentile(fresh, 0.99):.0f} ms",
    )
    table.add_row(
        "broker floor, bare produce → consume: p50 / p99",
        f"{percentile(floor, 0.5):.0f} / {percentile(floor, 0.99):.0f} ms",
    )
    table.add_row("freshness p99 / broker floor p99", f"{percentile(fresh, 0.99) / percentile(floor, 0.99):.2f}")
    table.add_row("freshness load: its rate / this run's end to end", load_share(options.rate, t["end_to_end_eps"]))
    table.add_row("freshness samples (mean ms)", f"{len(fresh):,} ({statistics.fmean(fresh) if fresh else 0:.0f})")
    ryw = result["read_your_writes"]
    table.add_row(
        "read-your-writes over HTTP (202 → min_position reached): p50 / p99",
        f"{percentile(ryw, 0.5):.0f} / {percentile(ryw, 0.99):.0f} ms ({len(ryw):,} samples)",
    )
    table.add_row("read-your-writes p99 / broker floor p99", f"{percentile(ryw, 0.99) / percentile(floor, 0.99):.2f}")
    kafka = result["intake"]
    table.add_row(
        f"Kafka intake backlog: {kafka['events']:,.0f} events for {kafka['customers']:,.0f} customers, end to end",
        f"{kafka['end_to_end_eps']:,.0f} events/s" + ("" if kafka["complete"] else " [red](incomplete)[/red]"),
    )
    rebuilt: RebuildReport = result["rebuild"]
    table.add_row(
        f"rebuild: {rebuilt.events:,} events into {rebuilt.customers:,} views, {rebuilt.shards} shards",
        f"{rebuilt.events_per_s:,.0f} events/s",
    )
    table.add_row("rebuild: projection batches held by the swap", f"{rebuilt.locked_seconds * 1000:.0f} ms")
    if not t["complete"]:
        table.add_row("[red]warning[/red]", "not every view caught up within the time limit")
    console.print(table)
    if t["cpu"]:
        console.print(cpu_table(t))
    series = Table(title="what /metrics reported (experience + projection serve process)")
    series.add_column("series")
    series.add_column("total", justify="right")
    for name, value in result["metrics"].items():
        series.add_row(name, f"{value:,.0f}")
    console.print(series)


def cpu_table(t: dict[str, Any]) -> Table:
    """Where the throughput run's CPU went, per part, in microseconds per event end to end."""
    table = Table(title=f"CPU per event in the throughput run ({t['seconds']:.1f} s wall, 2 cores = 100% busy at "
                        f"{2e6 / t['end_to_end_eps']:.0f} us/event)")  # fmt: skip
    table.add_column("part")
    table.add_column("CPU us/event", justify="right")
    table.add_column("cores busy", justify="right")
    for part, seconds in sorted(t["cpu"].items(), key=lambda item: -item[1]):
        table.add_row(part, f"{seconds * 1e6 / t['events']:,.0f}", f"{seconds / t['seconds']:.2f}")
    total = sum(t["cpu"].values())
    table.add_row("all parts", f"{total * 1e6 / t['events']:,.0f}", f"{total / t['seconds']:.2f}")
    return table
