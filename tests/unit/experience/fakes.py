"""In-memory stand-ins for the experience service's ports, used where PostgreSQL and Kafka are not the point."""

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import orjson

from services.experience.adapters.ports import (
    Checkpoint,
    EventStore,
    EventStoreUnavailableError,
    OutgoingRecord,
    RecordProducer,
    StoredEvent,
)
from services.experience.domain.append import AppendResult, NewEvent, batch_position, plan_append


class FakeEventStore(EventStore):
    def __init__(self) -> None:
        self.rows: list[tuple[int, int, NewEvent]] = []  # position, sequence, event
        self.checkpoints: dict[str, int] = {}
        self.available = True

    async def append(self, events: Sequence[NewEvent]) -> AppendResult:
        await self.ping()
        stored = {e.event_id: position for position, _, e in self.rows}
        last: dict[str, int] = {}
        for _, sequence, e in self.rows:
            last[e.customer_id] = sequence
        plan = plan_append(events, stored, last)
        new_positions = {}
        for numbered in plan.new:
            position = len(self.rows) + 1
            self.rows.append((position, numbered.sequence, numbered.event))
            new_positions[numbered.event.event_id] = position
        return AppendResult(
            [n.event.event_id for n in plan.new], plan.duplicates, batch_position(events, stored, new_positions)
        )

    async def read_from(self, position: int, limit: int) -> list[StoredEvent]:
        await self.ping()
        recorded = datetime.now(UTC).isoformat()
        return [
            StoredEvent(
                p,
                e.customer_id,
                e.event_id,
                e.type,
                None,
                orjson.dumps({**e.envelope, "position": p, "sequence": s, "recordedat": recorded}),
            )
            for p, s, e in self.rows
            if p > position
        ][:limit]

    async def ping(self) -> None:
        if not self.available:
            raise EventStoreUnavailableError("the fake store is down")

    @contextlib.asynccontextmanager
    async def leadership(self, name: str) -> AsyncIterator[Checkpoint]:
        yield _FakeCheckpoint(self.checkpoints, name)


class _FakeCheckpoint(Checkpoint):
    def __init__(self, checkpoints: dict[str, int], name: str) -> None:
        self._checkpoints = checkpoints
        self._name = name

    async def load(self) -> int:
        return self._checkpoints.get(self._name, 0)

    async def save(self, position: int) -> None:
        self._checkpoints[self._name] = position


class FakeProducer(RecordProducer):
    def __init__(self) -> None:
        self.sent: dict[str, list[OutgoingRecord]] = {}

    async def send_all(self, topic: str, records: Sequence[OutgoingRecord]) -> None:
        self.sent.setdefault(topic, []).extend(records)

    async def last_values(self, topic: str) -> list[bytes]:
        records = self.sent.get(topic, [])
        return [records[-1].value or b""] if records else []
