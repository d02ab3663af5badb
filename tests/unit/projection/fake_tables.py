"""What the projection's PostgreSQL tables would hold, in dicts, and a batch transaction that reads and writes them."""

import copy
from dataclasses import dataclass, field
from typing import Any

from services.projection.adapters.documents import decode, decode_state
from services.projection.adapters.ports import BatchTransaction, ViewRows
from services.projection.adapters.rows import TimelineRow, timeline_columns
from services.projection.adapters.state_cache import StateCache
from services.projection.domain import CustomerState, MemberRecord


@dataclass
class Tables:
    """What PostgreSQL would hold, one dict a table; a transaction works on a copy and swaps it in at commit."""

    views: dict[str, dict[str, Any]] = field(default_factory=dict)  # customer id -> the view, decoded
    states: dict[str, bytes] = field(default_factory=dict)  # customer id -> the encoded fold state
    published: dict[str, int] = field(default_factory=dict)  # customer id -> the position on the view topic
    timeline: dict[str, dict[str, Any]] = field(default_factory=dict)  # event id -> row
    offsets: dict[tuple[str, str, int], tuple[int, int]] = field(default_factory=dict)  # -> next offset, applied
    last_positions: dict[tuple[str, str, int], int] = field(default_factory=dict)  # -> the last record's position
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
            cached = cache.get(customer_id, view["version"], self.TABLE)
            states[customer_id] = cached or decode_state(self.tables.states[customer_id])
        return states, self.TABLE

    async def save_views(self, rows: ViewRows) -> None:
        for customer_id, version, view, state in zip(rows.ids, rows.versions, rows.views, rows.states, strict=True):
            stored = self.tables.views.get(customer_id)
            if stored is None or stored["version"] < version:
                self.tables.views[customer_id], self.tables.states[customer_id] = decode(view), state

    async def add_timeline(self, rows: list[TimelineRow]) -> None:
        for row in rows:
            columns = timeline_columns(row)
            self.tables.timeline.setdefault(columns["event_id"], columns)

    async def save_offsets(
        self, group: str, topic: str, next_offsets: dict[int, int], applied: dict[int, int],
        last: dict[int, int] | None = None,
    ) -> None:  # fmt: skip
        for partition, offset in next_offsets.items():
            _, held = self.tables.offsets.get((group, topic, partition), (0, 0))
            self.tables.offsets[group, topic, partition] = (offset, max(held, applied.get(partition, 0)))
            position = (last or {}).get(partition)
            if position is None:
                self.tables.last_positions.pop((group, topic, partition), None)
            else:
                self.tables.last_positions[group, topic, partition] = position

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
