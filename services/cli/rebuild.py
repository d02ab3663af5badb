"""`rapport rebuild`: replay the event store into fresh views with a progress bar, then say what it did."""

import asyncio
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from services.projection.adapters.event_log import EventLogError
from services.projection.adapters.rebuild_store import RebuildRefusedError
from services.projection.handlers.rebuild import RebuildReport
from services.projection.rebuild_root import rebuild_views
from services.projection.settings import ProjectionSettings

console = Console(highlight=False, soft_wrap=True)


def development_key(data_dir: Path) -> str | None:
    """The key `rapport dev` made (every scope, `admin` included), when one is kept in `data_dir`."""
    kept = data_dir / "dev-api-key"
    return kept.read_text().strip() if kept.exists() else None


def run_rebuild(settings: ProjectionSettings) -> RebuildReport:
    columns = (TextColumn("rebuilding views"), BarColumn(), MofNCompleteColumn(), TextColumn("events"),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("replay", total=None)

        def advance(done: int, head: int) -> None:
            bar.update(task, completed=done, total=max(head, done))

        try:
            report = asyncio.run(rebuild_views(settings, advance))
        except (EventLogError, RebuildRefusedError) as error:
            console.print(f"[red]rebuild failed: {error}[/red]; the live views are untouched")
            raise typer.Exit(1) from None
    show(report)
    return report


def show(report: RebuildReport) -> None:
    console.print(
        f"rebuilt {report.customers} customer view(s) and {report.accounts} account view(s) from "
        f"{report.events} event(s) in {report.seconds:.1f} s ({report.events_per_s:,.0f} events/s, "
        f"{report.shards} shard(s)); "
        f"{report.timeline_entries} timeline entries, {report.erased} erased customer(s) left out"
    )
    console.print(
        f"caught up {report.caught_up} event(s) stored meanwhile while projection batches waited "
        f"{report.locked_seconds:.2f} s; published {report.published} changed view(s) and tombstone(s)"
    )
    if report.undecodable:
        console.print(f"[red]{report.undecodable} undecodable event(s) skipped: see the log[/red]")
