"""An in-memory stand-in for PostgresViewReader: the views, accounts and timelines the HTTP API and the brief read."""

from datetime import datetime
from typing import Any

from services.projection.adapters.ports import TimelineFilter, ViewReader
from services.projection.domain import CustomerState, FoldRules, fold, render_view


class FakeViewReader(ViewReader):
    """Holds views and timeline entries in memory, answering like PostgresViewReader."""

    def __init__(self) -> None:
        self.views: dict[str, dict[str, Any]] = {}
        self.entries: dict[str, list[dict[str, Any]]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self.erased: set[str] = set()
        self.partitions: dict[str, int] = {}  # customer id -> the cx.events.v1 partition their events came from
        self.applied: dict[int, int] = {}  # partition -> the highest position the projection applied from it

    def fold(self, customer_id: str, events: list[Any], partition: int | None = None) -> None:
        """The customer's view and timeline from all of `events`; `partition`: where they came from, if known."""
        state = CustomerState(customer_id)
        entries = fold(state, events, FoldRules()).timeline
        self.views[customer_id] = render_view(state)
        self.entries[customer_id] = entries
        if partition is not None:
            self.partitions[customer_id] = partition

    async def get_view(self, customer_id: str) -> dict[str, Any] | None:
        return self.views.get(customer_id)

    async def get_view_applied(self, customer_id: str, position: int) -> tuple[dict[str, Any] | None, bool]:
        # As PostgreSQL: a partition holds a customer's events in position order, so having applied that far on the
        # customer's partition vouches for their view as much as the view's own position does.
        view = self.views.get(customer_id)
        if view is None:
            return None, False
        partition = self.partitions.get(customer_id)
        on_partition = partition is not None and self.applied.get(partition, -1) >= position
        return view, view["position"] >= position or on_partition

    async def get_account(self, account_id: str) -> dict[str, Any] | None:
        return self.accounts.get(account_id)

    async def is_erased(self, customer_id: str) -> bool:
        return customer_id in self.erased

    async def timeline(
        self, customer_id: str, before: tuple[datetime, int] | None, limit: int, filters: TimelineFilter | None = None
    ) -> list[dict[str, Any]]:
        def key(entry: dict[str, Any]) -> tuple[datetime, int]:
            return datetime.fromisoformat(entry["time"]), entry["position"]

        def kept(entry: dict[str, Any]) -> bool:
            f = filters or TimelineFilter()
            time = datetime.fromisoformat(entry["time"])
            return (
                all(getattr(f, n) in (None, entry[n]) for n in ("channel", "kind", "feeling"))
                and (f.since is None or time >= f.since) and (f.until is None or time < f.until)
            )  # fmt: skip

        ordered = sorted(filter(kept, self.entries.get(customer_id, [])), key=key, reverse=True)
        return [e for e in ordered if before is None or key(e) < before][:limit]

    async def ping(self) -> None:
        return None
