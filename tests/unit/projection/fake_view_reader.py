"""An in-memory stand-in for PostgresViewReader: the views, accounts and timelines the HTTP API and the brief read."""

from datetime import datetime
from typing import Any

from services.projection.adapters.view_reader import TimelineFilter
from services.projection.domain import CustomerState, FoldRules, fold, render_view


class FakeViewReader:
    """Holds views and timeline entries in memory, answering like PostgresViewReader."""

    def __init__(self) -> None:
        self.views: dict[str, dict[str, Any]] = {}
        self.entries: dict[str, list[dict[str, Any]]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self.erased: set[str] = set()

    def fold(self, customer_id: str, events: list[Any]) -> None:
        state = CustomerState(customer_id)
        entries = fold(state, events, FoldRules()).timeline
        self.views[customer_id] = render_view(state)
        self.entries[customer_id] = entries

    async def get_view(self, customer_id: str) -> dict[str, Any] | None:
        return self.views.get(customer_id)

    async def get_view_applied(self, customer_id: str, position: int) -> tuple[dict[str, Any] | None, bool]:
        view = self.views.get(customer_id)
        return view, view is not None and view["position"] >= position

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
