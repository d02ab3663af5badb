"""Project one consumed batch: decode, fold per customer, write in one transaction, then publish the views."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import structlog

from services.projection.adapters.view_publisher import KafkaViewPublisher
from services.projection.adapters.view_store import PostgresViewStore
from services.projection.domain import (
    CustomerState,
    FoldRules,
    StoredEvent,
    UndecodableEventError,
    event_from_record,
    fold,
    render_view,
)

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


def decode(records: Sequence[Record], grouped: dict[str, list[StoredEvent]]) -> int:
    """Add each record's event to its customer's list; return how many records could not be decoded."""
    undecodable = 0
    for record in records:
        try:
            event = event_from_record(orjson.loads(record.value or b""))
        except (orjson.JSONDecodeError, UndecodableEventError) as error:
            # The canonical topic is trusted; a bad record is a bug upstream, not a reason to stop every view.
            log.error("skipped undecodable record", offset=record.offset, error=str(error))
            undecodable += 1
            continue
        grouped.setdefault(event.customer_id, []).append(event)
    return undecodable


class ProjectBatch:
    """Everything a batch changes commits together with the offsets that produced it."""

    def __init__(
        self, store: PostgresViewStore, publisher: KafkaViewPublisher, rules: FoldRules, group: str, topic: str
    ) -> None:
        self._store, self._publisher, self._rules = store, publisher, rules
        self._group, self._topic = group, topic

    async def __call__(self, batch: Mapping[int, Sequence[Record]]) -> BatchOutcome:
        grouped: dict[str, list[StoredEvent]] = {}
        undecodable = sum(decode(records, grouped) for records in batch.values())
        next_offsets = {partition: records[-1].offset + 1 for partition, records in batch.items() if records}
        views: list[dict[str, Any]] = []
        applied = 0
        async with self._store.transaction() as tx:
            states = await tx.load_states(list(grouped)) if grouped else {}
            view_rows: list[dict[str, Any]] = []
            timeline_rows: list[dict[str, Any]] = []
            for customer_id, events in grouped.items():
                state = states.get(customer_id) or CustomerState(customer_id)
                result = fold(state, events, self._rules)
                if not result.applied:
                    continue  # all re-deliveries: nothing to write, nothing to publish
                applied += result.applied
                view = render_view(state)
                views.append(view)
                view_rows.append(_view_row(state, view))
                timeline_rows.extend(_timeline_row(customer_id, entry) for entry in result.timeline)
            await tx.save_views(view_rows)
            await tx.add_timeline(timeline_rows)
            await tx.save_offsets(self._group, self._topic, next_offsets)
        await self._publish(views)
        records = sum(len(r) for r in batch.values())
        return BatchOutcome(records=records, applied=applied, views=len(views), undecodable=undecodable)

    async def _publish(self, views: list[dict[str, Any]]) -> None:
        # After the commit: a crash here leaves published_position behind, and start-up publishes those views.
        if views:
            await self._publisher.publish(views)
            await self._store.mark_published({v["customer_id"]: v["position"] for v in views})


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
