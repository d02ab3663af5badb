"""In-memory stand-ins for the experience service's ports, used where PostgreSQL and Kafka are not the point."""

import contextlib
import copy
import importlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson

from services.experience.adapters.ports import (
    BrokerUnavailableError,
    Checkpoint,
    EventStore,
    EventStoreUnavailableError,
    IdentityDirectory,
    OutgoingRecord,
    RecordProducer,
    StoredEvent,
)
from services.experience.domain.admission import Known, plan_append
from services.experience.domain.append import AppendResult, Erasure, NewEvent, batch_position, customer_positions
from services.experience.domain.identities import IdentityHasher, IdentityKey

_REDACTION = importlib.import_module(
    "services.experience.adapters.migrations.versions.0003_erasure_redacts_personal_preferences"
)
REDACTED_PATHS: dict[str, tuple[tuple[str, ...], ...]] = _REDACTION.REDACTED_PATHS
KEPT_PREFERENCES: tuple[str, ...] = _REDACTION.KEPT_PREFERENCES


def redacted(envelope: Mapping[str, Any], event_type: str) -> dict[str, Any]:
    """What the database function `rapport_redacted` does, in Python."""
    stripped = copy.deepcopy(dict(envelope))
    for *parents, name in REDACTED_PATHS.get(event_type, ()):
        holder: Any = stripped
        for part in parents:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if isinstance(holder, dict):
            holder.pop(name, None)
    preferences = stripped.get("data", {}).get("preferences")
    if event_type == _REDACTION.PREFERENCE_STATED and isinstance(preferences, dict):
        stripped["data"]["preferences"] = {k: v for k, v in preferences.items() if k in KEPT_PREFERENCES}
    return dict(envelope) if stripped == envelope else {**stripped, "redacted": True}


class FakeEventStore(EventStore, IdentityDirectory):
    def __init__(self) -> None:
        self.rows: list[tuple[int, int, NewEvent]] = []  # position, sequence, event (customer resolved)
        self.links: dict[IdentityKey, str] = {}
        self.erased: dict[str, str] = {}  # customer -> erasure event id
        self.checkpoints: dict[str, int] = {}
        self.available = True
        self.version: str | None = "0003"

    async def append(self, events: Sequence[NewEvent], *, all_or_nothing: bool = True) -> AppendResult:
        await self.ping()
        stored = {e.event_id: position for position, _, e in self.rows}
        last: dict[str, int] = {}
        for _, sequence, e in self.rows:
            last[str(e.customer_id)] = sequence
        plan = plan_append(events, Known(stored, self.links, last, set(self.erased)))
        if plan.refusals and all_or_nothing:
            return AppendResult([], [], 0, plan.refusals)
        new_positions = {}
        for numbered in plan.new:
            position = len(self.rows) + 1
            self.rows.append((position, numbered.sequence, numbered.event))
            new_positions[numbered.event.event_id] = position
        for identity, change in plan.links.items():
            if change.customer_id is None:
                self.links.pop(identity, None)
            else:
                self.links[identity] = change.customer_id
        erasures = [self._erase(customer, event_id) for customer, event_id in plan.erasures.items()]
        position = batch_position([*new_positions, *plan.duplicates], stored, new_positions)
        customers = customer_positions(plan.new, new_positions, events, plan.duplicates, stored)
        return AppendResult(list(new_positions), plan.duplicates, position, plan.refusals, erasures, customers)

    def _erase(self, customer: str, event_id: str) -> Erasure:
        redacted_events = 0
        for i, (position, sequence, event) in enumerate(self.rows):
            if event.customer_id == customer and (envelope := redacted(event.envelope, event.type)) != event.envelope:
                self.rows[i] = (position, sequence, replace(event, envelope=envelope))
                redacted_events += 1
        gone = [identity for identity, linked in self.links.items() if linked == customer]
        for identity in gone:
            del self.links[identity]
        self.erased.setdefault(customer, event_id)
        return Erasure(customer, redacted_events, len(gone))

    async def read_from(self, position: int, limit: int) -> list[StoredEvent]:
        await self.ping()
        recorded = datetime.now(UTC).isoformat()
        return [
            StoredEvent(
                p,
                str(e.customer_id),
                e.event_id,
                e.type,
                e.envelope.get("traceparent"),
                orjson.dumps({**e.envelope, "position": p, "sequence": s, "recordedat": recorded}),
            )
            for p, s, e in self.rows
            if p > position
        ][:limit]

    async def ping(self) -> None:
        if not self.available:
            raise EventStoreUnavailableError("the fake store is down")

    async def schema_version(self) -> str | None:
        await self.ping()
        return self.version

    async def head(self) -> int:
        await self.ping()
        return len(self.rows)

    async def relay_backlog(self, name: str) -> int:
        await self.ping()
        return max(0, len(self.rows) - self.checkpoints.get(name, 0))

    @contextlib.asynccontextmanager
    async def leadership(self, name: str) -> AsyncIterator[Checkpoint]:
        yield _FakeCheckpoint(self.checkpoints, name)

    async def customer_of(self, identity: IdentityKey) -> str | None:
        await self.ping()
        return self.links.get(identity)


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
        self.retention_emptied: set[str] = set()
        self.available = True
        self.pings = 0

    async def ping(self, timeout_s: float = 2.0) -> None:
        self.pings += 1
        if not self.available:
            raise BrokerUnavailableError("the fake broker is down")

    async def send_all(self, topic: str, records: Sequence[OutgoingRecord]) -> None:
        self.sent.setdefault(topic, []).extend(records)

    async def last_values(self, topic: str) -> list[bytes]:
        records = self.sent.get(topic, [])
        return [records[-1].value or b""] if records else []

    async def expired(self, topic: str) -> bool:
        return topic in self.retention_emptied

    def expire(self, topic: str) -> None:
        """As retention would: the records go, the offsets stay."""
        self.sent[topic] = []
        self.retention_emptied.add(topic)


IDENTITIES = IdentityHasher(b"a-test-key-that-is-not-the-development-one")
