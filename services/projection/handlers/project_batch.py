"""Project one consumed batch: decode, fold per customer, write in one transaction, then publish the views."""

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from services.common.tracing import trace_id_of_valid
from services.projection.adapters.ports import BatchTransaction, ViewPublisher, ViewRows, ViewStore
from services.projection.adapters.rows import TimelineRow, membership_row, timeline_row, view_row
from services.projection.adapters.state_cache import StateCache
from services.projection.domain import (
    CUSTOMER_ERASED,
    AccountRules,
    CustomerState,
    FoldRules,
    StoredEvent,
    fold,
    render_view,
    roll_up,
)
from services.projection.handlers.consumed_batch import Decoded, Record, decode, freshness

MAX_TRACE_IDS = 20  # per batch log line: enough to find a request's batch, never a wall of ids


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    records: int
    applied: int
    views: int
    undecodable: int
    erased: int = 0
    accounts: int = 0
    customers: int = 0
    duplicates: int = 0
    trace_ids: tuple[str, ...] = ()
    # Seconds from accepted (the event's `recordedat`) to visible (this batch's commit), for the batch's oldest
    # and newest event: a partition is in position order, so its first and last records bound it.
    freshness: tuple[float, ...] = ()


@dataclass(slots=True)
class _Changes:
    """What one batch produced, to publish once the transaction has committed."""

    views: list[dict[str, Any]] = field(default_factory=list)
    erased: dict[str, int] = field(default_factory=dict)  # customer id -> position of the erasure
    account_revisions: dict[str, int] = field(default_factory=dict)  # of the accounts whose view changed
    applied: int = 0
    duplicates: int = 0
    serialised: list[bytes] = field(default_factory=list)  # each of `views` as JSON, in the same order
    states: list[CustomerState] = field(default_factory=list)  # the folded states this batch stores
    table: int = 0  # customer_views' table id, which a cached state must come from


@dataclass(slots=True)
class PublishedMarks:
    """What reached the view topic but is not yet recorded as published. Recorded in the next batch's transaction
    (or by `flush_marks` when the worker goes idle) instead of one more transaction per batch: the mark only tells
    start-up what to publish again, and publishing a view twice is harmless on a compacted topic."""

    views: dict[str, int] = field(default_factory=dict)  # customer id -> position published
    tombstones: list[str] = field(default_factory=list)

    def add(self, views: dict[str, int], tombstones: list[str]) -> None:
        for customer_id, position in views.items():
            if position > self.views.get(customer_id, 0):
                self.views[customer_id] = position
        self.tombstones.extend(tombstones)

    def clear(self) -> None:
        self.views.clear()
        self.tombstones.clear()


class ProjectBatch:
    """Everything a batch changes commits together with the offsets that produced it."""

    def __init__(
        self, store: ViewStore, publisher: ViewPublisher, rules: FoldRules, group: str, topic: str,
        account_publisher: ViewPublisher | None = None, account_rules: AccountRules | None = None,
        state_cache: StateCache | None = None,
    ) -> None:  # fmt: skip
        self._store, self._publisher, self._rules = store, publisher, rules
        self._cache = state_cache
        self._group, self._topic = group, topic
        self._account_publisher = account_publisher
        self._account_rules = account_rules or AccountRules()
        self._marks = PublishedMarks()

    async def __call__(self, batch: Mapping[int, Sequence[Record]]) -> BatchOutcome:
        decoded = Decoded()
        for partition, records in batch.items():
            decode(records, decoded, partition)
        next_offsets = {partition: records[-1].offset + 1 for partition, records in batch.items() if records}
        try:
            changes = await self._commit(decoded, next_offsets)
        except BaseException:
            if self._cache is not None:
                self._cache.clear()  # its states may have been folded into by the batch that failed
            raise
        committed = time.time()
        traces = {customer_id: traceparent for customer_id, (_, traceparent) in decoded.traces.items()}
        await self._publish(changes, traces)
        trace_ids = tuple(sorted({trace_id_of_valid(tp) for tp in traces.values()}))[
            :MAX_TRACE_IDS
        ]  # checked in decode
        return BatchOutcome(
            sum(len(r) for r in batch.values()), changes.applied, len(changes.views), decoded.undecodable,
            len(changes.erased), len(changes.account_revisions), customers=len(decoded.grouped),
            duplicates=changes.duplicates, trace_ids=trace_ids,
            freshness=freshness(decoded.recorded, committed),
        )  # fmt: skip

    async def _commit(self, decoded: Decoded, next_offsets: dict[int, int]) -> _Changes:
        async with self._store.transaction() as tx:
            changes = await self._project(tx, decoded)
            # A partition is in position order and this batch is all of it up to its next offset: once committed,
            # every event of its customers up to the highest position read is in the views (read-your-writes).
            await tx.save_offsets(self._group, self._topic, next_offsets, decoded.highest, decoded.last)
            # The earlier batches' marks last, after the views' rows are locked: a rebuild locks the views before
            # the marks, and the two orders must agree or each would wait for the other.
            await tx.mark_published(self._marks.views)
            await tx.mark_tombstones_published(self._marks.tombstones)
        self._marks.clear()
        if self._cache is not None:
            self._cache.put(changes.states, changes.table)
            self._cache.forget(list(changes.erased))
        return changes

    async def _project(self, tx: BatchTransaction, decoded: Decoded) -> _Changes:
        changes = _Changes()
        grouped = decoded.grouped
        if not grouped:
            return changes
        ids = list(grouped)
        erased = await tx.erased_among(ids)
        if self._cache is None:
            states = await tx.load_states(ids)
        else:
            states, changes.table = await tx.load_states_through(ids, self._cache)
        view_rows = ViewRows()
        timeline_rows: list[TimelineRow] = []
        memberships: list[dict[str, Any]] = []
        touched: set[str] = set()
        for customer_id, events in grouped.items():
            if customer_id in erased:
                continue  # forgotten for good: late events and replays after a broker loss bring nothing back
            erasure = _erasure(events)
            if erasure is not None:
                changes.erased[customer_id] = erasure
                continue
            state = states.get(customer_id) or CustomerState(customer_id)
            result = fold(state, events, self._rules)
            changes.duplicates += len(events) - result.applied
            if not result.applied:
                continue  # all re-deliveries: nothing to write, nothing to publish
            changes.applied += result.applied
            changes.states.append(state)
            view = render_view(state, self._rules)
            changes.views.append(view)
            serialised = orjson.dumps(view)  # once: stored compressed, published as it is
            changes.serialised.append(serialised)
            # The view is stored as well as the state, not rendered again on read: a read then costs a decode,
            # not a render (~18 us) that would also need the fold rules in every process that reads; and it is
            # exactly what was published. Compressed, it costs PostgreSQL far less than it did as jsonb.
            view_rows.add(*view_row(state, view, serialised), decoded.partitions[customer_id])
            timeline_rows.extend(timeline_row(customer_id, entry) for entry in result.timeline)
            # A member's view feeds their accounts' roll-ups; a membership change feeds the account it names.
            touched.update(account for account, decision in state.accounts.items() if decision.granted)
            touched.update(result.accounts_changed)
            for account_id in result.accounts_changed:
                decision = state.accounts[account_id]
                memberships.append(
                    membership_row(account_id, customer_id, decision.role, decision.granted, decision.position)
                )
        await tx.save_views(view_rows)
        await tx.add_timeline(timeline_rows)
        touched |= await tx.erase(changes.erased)
        await tx.save_memberships(memberships)
        if touched:
            await self._roll_up_accounts(tx, sorted(touched), changes)
        notices = [f"{v['customer_id']}:{v['position']}" for v in changes.views]
        await tx.notify(notices + [f"{customer_id}:erased" for customer_id in changes.erased])
        return changes

    async def _roll_up_accounts(self, tx: BatchTransaction, account_ids: list[str], changes: _Changes) -> None:
        members = await tx.load_members(account_ids)
        views = [roll_up(account_id, records, self._account_rules) for account_id, records in members.items()]
        changes.account_revisions = await tx.save_account_views(views)

    async def _publish(self, changes: _Changes, traces: dict[str, str]) -> None:
        # After the commit: a crash here leaves the published markers behind, and start-up publishes those.
        if changes.views:
            await self._publisher.publish(changes.views, traces, changes.serialised)
        if changes.erased:
            await self._publisher.publish_tombstones(list(changes.erased))
        if changes.views or changes.erased:
            self._marks.add({v["customer_id"]: v["position"] for v in changes.views}, list(changes.erased))
        if changes.account_revisions and self._account_publisher is not None:
            await self._publish_accounts(self._account_publisher, sorted(changes.account_revisions))

    async def flush_marks(self) -> None:
        """Record what was published but not yet marked; for an idle moment, off the path of any batch."""
        if self._marks.views or self._marks.tombstones:
            await self._store.mark_published(self._marks.views, tombstones=self._marks.tombstones)
            self._marks.clear()

    async def _publish_accounts(self, publisher: ViewPublisher, account_ids: list[str]) -> None:
        # Not the views this batch rendered: an account's members live on several partitions, so another worker
        # may since have committed a newer roll-up. What goes out is what PostgreSQL holds now, read under the
        # lock a roll-up takes and acknowledged before it is released: whichever worker gets here last, the
        # topic ends on the latest committed revision (an erased member never comes back on it).
        async with self._store.transaction() as tx:
            accounts = await tx.lock_accounts_to_publish(account_ids)
            await publisher.publish([view for view, _ in accounts])
            await tx.mark_accounts_published({view["account_id"]: revision for view, revision in accounts})


def _erasure(events: list[StoredEvent]) -> int | None:
    positions = [event.position for event in events if event.type == CUSTOMER_ERASED]
    return min(positions) if positions else None
