"""Project one consumed batch: decode, fold per customer, write in one transaction, then publish the views."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
import structlog

from services.projection.adapters.view_publisher import KafkaViewPublisher
from services.projection.adapters.view_store import BatchTransaction, PostgresViewStore
from services.projection.domain import (
    CUSTOMER_ERASED,
    AccountRules,
    CustomerState,
    FoldRules,
    StoredEvent,
    UndecodableEventError,
    event_from_record,
    fold,
    render_view,
    roll_up,
)
from services.projection.domain.state import DecisionState

log = structlog.get_logger(__name__)


class Record(Protocol):
    """The part of a Kafka record the handler reads (aiokafka's ConsumerRecord fits)."""

    @property
    def offset(self) -> int: ...
    @property
    def value(self) -> bytes | None: ...


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    records: int
    applied: int
    views: int
    undecodable: int
    erased: int = 0
    accounts: int = 0


@dataclass(slots=True)
class _Changes:
    """What one batch produced, to publish once the transaction has committed."""

    views: list[dict[str, Any]] = field(default_factory=list)
    erased: dict[str, int] = field(default_factory=dict)  # customer id -> position of the erasure
    accounts: list[dict[str, Any]] = field(default_factory=list)
    account_revisions: dict[str, int] = field(default_factory=dict)
    applied: int = 0


def decode(records: Sequence[Record], grouped: dict[str, list[StoredEvent]]) -> int:
    """Add each record's event to its customer's list; return how many records could not be decoded."""
    undecodable = 0
    for record in records:
        try:
            event = event_from_record(orjson.loads(record.value or b""))
        except (orjson.JSONDecodeError, UndecodableEventError) as error:
            # The canonical topic is trusted; a bad record is a bug upstream, not a reason to stop every view.
            # The error names a field or a parse failure, never the record's content (it may be personal).
            log.error("skipped undecodable record", offset=record.offset, error=type(error).__name__)
            undecodable += 1
            continue
        grouped.setdefault(event.customer_id, []).append(event)
    return undecodable


class ProjectBatch:
    """Everything a batch changes commits together with the offsets that produced it."""

    def __init__(
        self, store: PostgresViewStore, publisher: KafkaViewPublisher, rules: FoldRules, group: str, topic: str,
        account_publisher: KafkaViewPublisher | None = None, account_rules: AccountRules | None = None,
    ) -> None:  # fmt: skip
        self._store, self._publisher, self._rules = store, publisher, rules
        self._group, self._topic = group, topic
        self._account_publisher = account_publisher
        self._account_rules = account_rules or AccountRules()

    async def __call__(self, batch: Mapping[int, Sequence[Record]]) -> BatchOutcome:
        grouped: dict[str, list[StoredEvent]] = {}
        undecodable = sum(decode(records, grouped) for records in batch.values())
        next_offsets = {partition: records[-1].offset + 1 for partition, records in batch.items() if records}
        async with self._store.transaction() as tx:
            changes = await self._project(tx, grouped)
            await tx.save_offsets(self._group, self._topic, next_offsets)
        await self._publish(changes)
        records = sum(len(r) for r in batch.values())
        return BatchOutcome(records, changes.applied, len(changes.views), undecodable, len(changes.erased),
                            len(changes.accounts))  # fmt: skip

    async def _project(self, tx: BatchTransaction, grouped: dict[str, list[StoredEvent]]) -> _Changes:
        changes = _Changes()
        if not grouped:
            return changes
        ids = list(grouped)
        erased = await tx.erased_among(ids)
        states = await tx.load_states(ids)
        view_rows: list[dict[str, Any]] = []
        timeline_rows: list[dict[str, Any]] = []
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
            if not result.applied:
                continue  # all re-deliveries: nothing to write, nothing to publish
            changes.applied += result.applied
            view = render_view(state, self._rules)
            changes.views.append(view)
            view_rows.append(_view_row(state, view))
            timeline_rows.extend(_timeline_row(customer_id, entry) for entry in result.timeline)
            # A member's view feeds their accounts' roll-ups; a membership change feeds the account it names.
            touched.update(account for account, decision in state.accounts.items() if decision.granted)
            touched.update(result.accounts_changed)
            memberships.extend(_membership_row(customer_id, a, state.accounts[a]) for a in result.accounts_changed)
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
        changes.accounts = [view for view in views if view["account_id"] in changes.account_revisions]

    async def _publish(self, changes: _Changes) -> None:
        # After the commit: a crash here leaves the published markers behind, and start-up publishes those.
        if changes.views:
            await self._publisher.publish(changes.views)
        if changes.erased:
            await self._publisher.publish_tombstones(list(changes.erased))
        if changes.accounts and self._account_publisher is not None:
            await self._account_publisher.publish(changes.accounts)
        if changes.views or changes.erased or changes.accounts:
            published = {v["customer_id"]: v["position"] for v in changes.views}
            accounts = changes.account_revisions if self._account_publisher is not None else {}
            await self._store.mark_published(published, accounts, list(changes.erased))


def _erasure(events: list[StoredEvent]) -> int | None:
    positions = [event.position for event in events if event.type == CUSTOMER_ERASED]
    return min(positions) if positions else None


def _view_row(state: CustomerState, view: dict[str, Any]) -> dict[str, Any]:
    return {
        "customer_id": state.customer_id, "version": state.version, "position": state.position,
        "updated_at": view["updated_at"], "view": view, "fold_state": state.to_json(),
    }  # fmt: skip


def _timeline_row(customer_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": entry["event_id"], "customer_id": customer_id, "position": entry["position"],
        "occurred_at": entry["time"], "channel": entry["channel"], "kind": entry["kind"],
        "feeling": entry["feeling"], "entry": entry,
    }  # fmt: skip


def _membership_row(customer_id: str, account_id: str, decision: DecisionState) -> dict[str, Any]:
    return {
        "account_id": account_id, "customer_id": customer_id, "role": decision.role or "other",
        "member": decision.granted, "position": decision.position,
    }  # fmt: skip
