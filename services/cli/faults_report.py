"""The fault suite's verdict per scenario, and the table it prints."""

import sys
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from services.cli.faults_ledger import Ledger

console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 150)


@dataclass
class ScenarioResult:
    """One scenario's figures: the ledger's, the views' against it, and how long healing took."""

    name: str
    cycles: int
    customers: list[str]
    ledger: Ledger
    lost: int = 0
    counted_twice: int = 0
    caught_up_s: float | None = None
    fresh_event_s: float | None = None  # the longest one event sent after a cycle's load took to show
    rebuild_changed: int | None = None  # None: the rebuild did not run or failed
    notes: list[str] = field(default_factory=list)  # what the faults did, for the reader
    problems: list[str] = field(default_factory=list)  # what went wrong besides the counts: a stall, no restart

    @property
    def server_errors(self) -> int:
        return len(self.ledger.server_errors)

    @property
    def ok(self) -> bool:
        counts = (self.lost, self.counted_twice, self.server_errors, self.ledger.undelivered, len(self.problems))
        timely = self.caught_up_s is not None and self.fresh_event_s is not None
        return not any(counts) and timely and self.rebuild_changed == 0


def table(results: list[ScenarioResult]) -> Table:
    grid = Table(title="Rapport under faults")
    for column in ("scenario", "cycles", "acknowledged", "lost", "counted twice", "5xx", "caught up (s)",
                   "fresh event (s)", "rebuild changed", "retried"):  # fmt: skip
        grid.add_column(column, justify="left" if column == "scenario" else "right")
    for r in results:
        caught, fresh = (f"{s:.1f}" if s is not None else "[red]no[/red]" for s in (r.caught_up_s, r.fresh_event_s))
        rebuilt = str(r.rebuild_changed) if r.rebuild_changed is not None else "[red]failed[/red]"
        grid.add_row(r.name, str(r.cycles), f"{r.ledger.total:,}", _bad(r.lost), _bad(r.counted_twice),
                     _bad(r.server_errors), caught, fresh, rebuilt, f"{r.ledger.retried:,}")  # fmt: skip
    return grid


def _bad(count: int) -> str:
    return f"[red]{count}[/red]" if count else "0"


def explain(results: list[ScenarioResult]) -> None:
    for r in results:
        for line in r.notes:
            console.print(f"  {r.name}: {line}")
        for line in [*r.problems, *r.ledger.server_errors[:5]]:
            console.print(f"  {r.name}: [red]{line}[/red]")
        if r.ledger.undelivered:
            console.print(f"  {r.name}: [red]{r.ledger.undelivered} event(s) never acknowledged[/red]")
