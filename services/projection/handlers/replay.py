"""Fold the whole event log in memory, customer by customer, into the rows a rebuild writes."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog

from services.projection.adapters.rows import (
    membership_for_copy,
    membership_row,
    timeline_for_copy,
    timeline_row,
    view_for_copy,
    view_row,
)
from services.projection.domain import (
    CUSTOMER_ERASED,
    AccountRules,
    CustomerState,
    FoldRules,
    MemberRecord,
    StoredEvent,
    UndecodableEventError,
    event_from_record,
    fold,
    render_view,
    roll_up,
)
from services.projection.domain.state import DecisionState

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class Replay:
    """Every customer's state, folded from their events in position order; erased customers forgotten.

    The same fold as the live projection, so a rebuilt view equals the one the workers would have built.
    """

    rules: FoldRules
    states: dict[str, CustomerState] = field(default_factory=dict)
    erasures: dict[str, int] = field(default_factory=dict)  # customer id -> position of their erasure
    # An erased customer's memberships at erasure: they stay in the account as former members, as live.
    former: dict[str, dict[str, DecisionState]] = field(default_factory=dict)
    forgotten: frozenset[str] = frozenset()  # erased before this replay began: never given a view again
    events: int = 0
    undecodable: int = 0
    timeline_entries: int = 0

    def apply(self, lines: Iterable[bytes]) -> tuple[list[tuple[Any, ...]], set[str]]:
        """Fold a page of canonical documents; return its timeline rows and the customers it changed."""
        return self.fold_grouped(self.decode(lines))

    def decode(self, lines: Iterable[bytes]) -> dict[str, list[StoredEvent]]:
        """A page's events per customer, in position order."""
        grouped: dict[str, list[StoredEvent]] = {}
        for line in lines:
            try:
                event = event_from_record(orjson.loads(line))
            except (orjson.JSONDecodeError, UndecodableEventError) as error:
                log.error("rebuild skipped an undecodable event", error=type(error).__name__)
                self.undecodable += 1
                continue
            grouped.setdefault(event.customer_id, []).append(event)
            self.events += 1
        return grouped

    def fold_grouped(self, grouped: dict[str, list[StoredEvent]]) -> tuple[list[tuple[Any, ...]], set[str]]:
        rows: list[tuple[Any, ...]] = []
        changed: set[str] = set()
        for customer_id, events in grouped.items():
            if customer_id in self.erasures or customer_id in self.forgotten:
                continue  # the store refuses events after an erasure; a replayed one changes nothing
            state = self.states.get(customer_id) or CustomerState(customer_id)
            erasure = min((e.position for e in events if e.type == CUSTOMER_ERASED), default=None)
            if erasure is not None:
                fold(state, [e for e in events if e.position < erasure], self.rules)
                self.forget(customer_id, erasure, state)
                changed.add(customer_id)
                continue
            result = fold(state, events, self.rules)
            self.states[customer_id] = state
            if result.applied:
                changed.add(customer_id)
            rows.extend(timeline_for_copy(timeline_row(customer_id, entry)) for entry in result.timeline)
        self.timeline_entries += len(rows)
        return rows, changed

    def forget(self, customer_id: str, position: int, state: CustomerState | None = None) -> None:
        state = state or self.states.get(customer_id)
        self.states.pop(customer_id, None)
        self.erasures[customer_id] = position
        if state is not None and state.accounts:
            self.former[customer_id] = state.accounts

    def view_rows(self, customer_ids: Iterable[str]) -> Iterable[tuple[Any, ...]]:
        for customer_id in customer_ids:
            state = self.states.get(customer_id)
            if state is None:
                continue
            view = render_view(state, self.rules)
            yield view_for_copy(view_row(state, view, orjson.dumps(view)))

    def membership_rows(self, customer_ids: Iterable[str]) -> list[tuple[Any, ...]]:
        """account_members rows of the customers, former members (erased) as the workers keep them."""
        rows: list[tuple[Any, ...]] = []
        for customer_id in customer_ids:
            state = self.states.get(customer_id)
            for account_id, decision in (state.accounts if state is not None else {}).items():
                row = membership_row(account_id, customer_id, decision.role, decision.granted, decision.position)
                rows.append(membership_for_copy(row))
            for account_id, decision in self.former.get(customer_id, {}).items():
                position = max(decision.position, self.erasures[customer_id])
                rows.append(
                    membership_for_copy(membership_row(account_id, customer_id, decision.role, False, position))
                )
        return rows


def roll_up_accounts(members: dict[str, list[MemberRecord]], rules: AccountRules) -> list[tuple[Any, ...]]:
    """account_views rows rolled up from each account's membership records."""
    views = [roll_up(account_id, records, rules) for account_id, records in sorted(members.items())]
    return [(v["account_id"], v["version"], v["position"], orjson.dumps(v).decode()) for v in views]
