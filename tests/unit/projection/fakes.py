"""In-memory stand-ins for the projection's ports and for Kafka records, for tests that need no PostgreSQL or Kafka."""

import copy
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.projection.adapters.documents import decode, decode_state
from services.projection.adapters.ports import BatchTransaction, ViewPublisher, ViewRows, ViewStore
from services.projection.adapters.state_cache import StateCache
from services.projection.adapters.view_reader import TimelineFilter
from services.projection.domain import CustomerState, FoldRules, MemberRecord, fold, render_view


@dataclass
class FakeRecord:
    """The part of an aiokafka ConsumerRecord the batch handler reads."""

    offset: int
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass
class Tables:
    """What PostgreSQL would hold, one dict a table; a transaction works on a copy and swaps it in at commit."""

    views: dict[str, dict[str, Any]] = field(default_factory=dict)  # customer id -> the view, decoded
    states: dict[str, bytes] = field(default_factory=dict)  # customer id -> the encoded fold state
    published: dict[str, int] = field(default_factory=dict)  # customer id -> the position on the view topic
    timeline: dict[str, dict[str, Any]] = field(default_factory=dict)  # event id -> row
    offsets: dict[tuple[str, str, int], tuple[int, int]] = field(default_factory=dict)  # -> next offset, applied
    erased: dict[str, tuple[int, bool]] = field(default_factory=dict)  # customer id -> position, tombstone published
    memberships: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (account, customer) -> row
    accounts: dict[str, tuple[dict[str, Any], int, int]] = field(default_factory=dict)  # -> view, revision, published
    notices: list[str] = field(default_factory=list)  # delivered at commit, as NOTIFY is


class FakeBatchTransaction(BatchTransaction):
    TABLE = 1  # the one customer_views table there is: no rebuild ever swaps it

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def load_states(self, customer_ids: list[str]) -> dict[str, CustomerState]:
        states = self.tables.states
        return {c: decode_state(states[c]) for c in customer_ids if c in states}

    async def load_states_through(
        self, customer_ids: list[str], cache: StateCache
    ) -> tuple[dict[str, CustomerState], int]:
        states = {}
        for customer_id in customer_ids:
            if (view := self.tables.views.get(customer_id)) is None:
                continue
            cached = cache.get(customer_id, view["position"], self.TABLE)
            states[customer_id] = cached or decode_state(self.tables.states[customer_id])
        return states, self.TABLE

    async def save_views(self, rows: ViewRows) -> None:
        for customer_id, position, view, state in zip(rows.ids, rows.positions, rows.views, rows.states, strict=True):
            stored = self.tables.views.get(customer_id)
            if stored is None or stored["position"] < position:
                self.tables.views[customer_id], self.tables.states[customer_id] = decode(view), state

    async def add_timeline(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.tables.timeline.setdefault(row["event_id"], row)

    async def save_offsets(self, group: str, topic: str, next_offsets: dict[int, int], applied: dict[int, int]) -> None:
        for partition, offset in next_offsets.items():
            _, held = self.tables.offsets.get((group, topic, partition), (0, 0))
            self.tables.offsets[group, topic, partition] = (offset, max(held, applied.get(partition, 0)))

    async def erased_among(self, customer_ids: list[str]) -> set[str]:
        return set(customer_ids) & set(self.tables.erased)

    async def erase(self, erasures: dict[str, int]) -> set[str]:
        tables, left = self.tables, set()
        for customer_id, position in erasures.items():
            tables.views.pop(customer_id, None)
            tables.states.pop(customer_id, None)
            tables.timeline = {k: row for k, row in tables.timeline.items() if row["customer_id"] != customer_id}
            for (account_id, member), row in tables.memberships.items():
                if member == customer_id:
                    row.update(member=False, position=max(row["position"], position))
                    left.add(account_id)
            tables.erased.setdefault(customer_id, (position, False))
        return left

    async def save_memberships(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.tables.memberships[row["account_id"], row["customer_id"]] = dict(row)

    async def load_members(self, account_ids: list[str]) -> dict[str, list[MemberRecord]]:
        members: dict[str, list[MemberRecord]] = {a: [] for a in account_ids}
        for (account_id, customer_id), row in self.tables.memberships.items():
            if account_id in members:
                members[account_id].append(self._member(customer_id, row))
        return members

    def _member(self, customer_id: str, row: dict[str, Any]) -> MemberRecord:
        view = self.tables.views.get(customer_id) if row["member"] else None
        if view is None:
            return MemberRecord(customer_id, row["role"], False, row["position"])
        state = decode_state(self.tables.states[customer_id])
        return MemberRecord(
            customer_id, row["role"], True, row["position"], view["version"], view["position"], view.get("updated_at"),
            view.get("experience") or {}, view.get("preferences") or {}, state.scored, state.contracts,
        )  # fmt: skip

    async def save_account_views(self, views: list[dict[str, Any]]) -> dict[str, int]:
        changed = {}
        for view in views:
            held = self.tables.accounts.get(view["account_id"])
            if held is None or held[0] != view:
                revision = held[1] + 1 if held else 1
                self.tables.accounts[view["account_id"]] = (view, revision, held[2] if held else 0)
                changed[view["account_id"]] = revision
        return changed

    async def notify(self, payloads: list[str]) -> None:
        self.tables.notices.extend(payloads)

    async def lock_unpublished_accounts(self, limit: int) -> list[tuple[dict[str, Any], int]]:
        return self._unpublished_accounts(sorted(self.tables.accounts))[:limit]

    async def lock_accounts_to_publish(self, account_ids: list[str]) -> list[tuple[dict[str, Any], int]]:
        return self._unpublished_accounts(sorted(set(account_ids) & set(self.tables.accounts)))

    def _unpublished_accounts(self, account_ids: list[str]) -> list[tuple[dict[str, Any], int]]:
        held = [self.tables.accounts[a] for a in account_ids]
        return [(view, revision) for view, revision, published in held if published < revision]

    async def lock_unpublished_tombstones(self, limit: int) -> list[str]:
        return sorted(c for c, (_, published) in self.tables.erased.items() if not published)[:limit]

    async def mark_accounts_published(self, published: dict[str, int]) -> None:
        for account_id, revision in published.items():
            view, current, held = self.tables.accounts[account_id]
            self.tables.accounts[account_id] = (view, current, max(held, revision))

    async def mark_tombstones_published(self, customer_ids: list[str]) -> None:
        for customer_id in set(customer_ids) & set(self.tables.erased):
            self.tables.erased[customer_id] = (self.tables.erased[customer_id][0], True)

    async def lock_unpublished(self, limit: int, after: str = "") -> list[dict[str, Any]]:
        views, published = self.tables.views, self.tables.published
        ids = sorted(c for c, v in views.items() if c > after and published.get(c, 0) < v["position"])
        return [copy.deepcopy(views[c]) for c in ids[:limit]]

    async def mark_published(self, published: dict[str, int]) -> None:
        for customer_id, position in published.items():
            if customer_id in self.tables.views and self.tables.published.get(customer_id, 0) < position:
                self.tables.published[customer_id] = position


class FakeViewStore(ViewStore):
    """Commit or roll back: a transaction's writes become visible only when its block exits without an error."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.fail_next_commit = False  # the next transaction raises at its commit, as a lost connection would

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[BatchTransaction]:
        working = copy.deepcopy(self.tables)
        yield FakeBatchTransaction(working)
        if self.fail_next_commit:
            self.fail_next_commit = False
            raise ConnectionError("lost the connection at commit")
        self.tables = working

    async def stored_offsets(self, group: str, topic: str) -> dict[int, int]:
        return {p: offset for (g, t, p), (offset, _) in self.tables.offsets.items() if (g, t) == (group, topic)}

    async def mark_published(self, views: dict[str, int], tombstones: list[str] | None = None) -> None:
        async with self.transaction() as tx:
            await tx.mark_published(views)
            await tx.mark_tombstones_published(tombstones or [])


class FakeViewPublisher(ViewPublisher):
    """Records every publish call: views as sent (with their traceparents) and tombstoned keys."""

    def __init__(self) -> None:
        self.published: list[list[dict[str, Any]]] = []  # one list a call
        self.traceparents: dict[str, str] = {}
        self.tombstones: list[list[str]] = []  # one list a call
        self.down = False  # publishing raises, as it does when the broker cannot be reached

    async def publish(
        self, views: list[dict[str, Any]], traceparents: Mapping[str, str] | None = None,
        serialised: list[bytes] | None = None,
    ) -> None:  # fmt: skip
        if self.down:
            raise ConnectionError("the broker is unreachable")
        self.published.append(copy.deepcopy(views))
        self.traceparents.update(traceparents or {})

    async def publish_tombstones(self, keys: list[str]) -> None:
        if self.down:
            raise ConnectionError("the broker is unreachable")
        self.tombstones.append(list(keys))

    def views(self) -> list[dict[str, Any]]:
        return [view for call in self.published for view in call]


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
