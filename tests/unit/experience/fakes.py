"""In-memory stand-ins for the experience service's ports, used where PostgreSQL and Kafka are not the point."""

import asyncio
import contextlib
import copy
import importlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson

from services.experience.adapters.ports import (
    AppendBatch,
    BrokerUnavailableError,
    Checkpoint,
    EventStore,
    EventStoreUnavailableError,
    IdentityDirectory,
    OutgoingRecord,
    RecordProducer,
    RelayFencedError,
    StoredEvent,
)
from services.experience.domain.admission import Known, LinkChange
from services.experience.domain.append import Erasure, NewEvent, Numbered
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
        self.leaders_wakes: set[asyncio.Event] = set()  # of the relays leading now, set at every append
        self.checkpoint_clusters: dict[str, str] = {}  # relay name -> the Kafka cluster its checkpoint belongs to
        self.available = True
        self.version: str | None = "0004"
        self._turn = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def appending(self) -> AsyncIterator[AppendBatch]:
        """The turn is a lock; rolling back puts the rows, links and erasures back as they were."""
        async with self._turn:
            await self.ping()
            saved = (list(self.rows), dict(self.links), dict(self.erased))
            try:
                yield _FakeAppendBatch(self)
            except BaseException:
                self.rows, self.links, self.erased = saved
                raise
            if len(self.rows) > len(saved[0]):
                for wake in self.leaders_wakes:  # as NOTIFY reaches a leader in any replica at commit
                    wake.set()

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
    async def leadership(
        self, name: str, cluster_id: str, wake: asyncio.Event | None = None
    ) -> AsyncIterator[Checkpoint]:
        owner = self.checkpoint_clusters.setdefault(name, cluster_id)
        if owner != cluster_id:
            raise RelayFencedError(name, cluster_id, owner)
        if wake is not None:
            self.leaders_wakes.add(wake)
        try:
            yield _FakeCheckpoint(self, name, cluster_id)
        finally:
            if wake is not None:
                self.leaders_wakes.discard(wake)

    async def customer_of(self, identity: IdentityKey) -> str | None:
        await self.ping()
        return self.links.get(identity)


class _FakeAppendBatch(AppendBatch):
    """Reads and writes the fake's rows directly: no decision here, the handler makes it."""

    def __init__(self, store: FakeEventStore) -> None:
        self._store = store

    async def known(self, events: Sequence[NewEvent]) -> Known:
        """As PostgreSQL reads it: only the batch's ids, identities, and the customers named or linked."""
        rows, ids = self._store.rows, {e.event_id for e in events}
        stored = {e.event_id: position for position, _, e in rows if e.event_id in ids}
        named = {e.identity for e in events if e.identity is not None}
        links = {identity: c for identity, c in self._store.links.items() if identity in named}
        customers = {e.customer_id for e in events if e.customer_id is not None} | set(links.values())
        last = {str(e.customer_id): sequence for _, sequence, e in rows if e.customer_id in customers}
        return Known(stored, links, last, customers & set(self._store.erased))

    async def insert(self, new: Sequence[Numbered]) -> dict[str, int]:
        positions = {}
        for numbered in new:
            position = len(self._store.rows) + 1
            self._store.rows.append((position, numbered.sequence, numbered.event))
            positions[numbered.event.event_id] = position
        return positions

    async def save_links(self, links: Mapping[IdentityKey, LinkChange]) -> None:
        for identity, change in links.items():
            if change.customer_id is None:
                self._store.links.pop(identity, None)
            else:
                self._store.links[identity] = change.customer_id

    async def erase(self, erasures: Mapping[str, str]) -> list[Erasure]:
        return [self._erase(customer, event_id) for customer, event_id in erasures.items()]

    def _erase(self, customer: str, event_id: str) -> Erasure:
        rows = self._store.rows
        redacted_events = 0
        for i, (position, sequence, event) in enumerate(rows):
            if event.customer_id == customer and (envelope := redacted(event.envelope, event.type)) != event.envelope:
                rows[i] = (position, sequence, replace(event, envelope=envelope))
                redacted_events += 1
        gone = [identity for identity, linked in self._store.links.items() if linked == customer]
        for identity in gone:
            del self._store.links[identity]
        self._store.erased.setdefault(customer, event_id)
        return Erasure(customer, redacted_events, len(gone))


class _FakeCheckpoint(Checkpoint):
    def __init__(self, store: FakeEventStore, name: str, cluster_id: str) -> None:
        self._store = store
        self._name = name
        self._cluster_id = cluster_id

    async def load(self) -> int:
        return self._store.checkpoints.get(self._name, 0)

    async def save(self, position: int) -> None:
        owner = self._store.checkpoint_clusters.get(self._name)
        if owner != self._cluster_id:
            raise RelayFencedError(self._name, self._cluster_id, owner)
        self._store.checkpoints[self._name] = position


class FakeProducer(RecordProducer):
    def __init__(self, cluster_id: str = "fake-cluster") -> None:
        self.cluster = cluster_id
        self.sent: dict[str, list[OutgoingRecord]] = {}
        self.offsets: dict[str, int] = {}  # topic -> the next offset of its log
        self.retention_emptied: set[str] = set()
        self.available = True
        self.pings = 0

    async def ping(self, timeout_s: float = 2.0) -> None:
        self.pings += 1
        if not self.available:
            raise BrokerUnavailableError("the fake broker is down")

    async def cluster_id(self) -> str:
        if not self.available:
            raise BrokerUnavailableError("the fake broker is down")
        return self.cluster

    async def send_all(self, topic: str, records: Sequence[OutgoingRecord]) -> dict[int, int]:
        """One partition, whose log offsets go on counting when retention empties it, as Kafka's do."""
        base = self.offsets.get(topic, 0)
        self.sent.setdefault(topic, []).extend(records)
        self.offsets[topic] = base + len(records)
        return {0: base} if records else {}

    def restart_empty(self, topic: str) -> None:
        """As a broker that keeps nothing across a restart: the topic comes back empty, its offsets from 0."""
        self.sent[topic] = []
        self.offsets[topic] = 0

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
