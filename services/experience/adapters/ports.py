"""The interfaces the handlers need from storage and messaging; fakes and real adapters implement them."""

import zlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from services.experience.domain.append import AppendResult, NewEvent
from services.experience.domain.identities import IdentityKey


class EventStoreUnavailableError(RuntimeError):
    """The event store cannot be reached right now; the caller should retry later, nothing was stored."""


class BrokerUnavailableError(RuntimeError):
    """The Kafka cluster did not answer a metadata request in time."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as the relay publishes it: `document` is the CloudEvent JSON with its storage attributes."""

    position: int
    customer_id: str
    event_id: str
    type: str
    traceparent: str | None
    document: bytes


@dataclass(frozen=True, slots=True)
class EventLogPage:
    """A run of stored events as newline-delimited canonical documents: the bytes the relay publishes."""

    body: bytes
    count: int
    last_position: int  # of the page's last event; the `after` asked for when the page is empty
    head: int  # the newest stored position when the page was read


def shard_of(customer_id: str, shards: int) -> int:
    """A stable shard for a customer (a store may use its own function: shards only need to be disjoint)."""
    return zlib.crc32(customer_id.encode()) % shards


class Checkpoint(ABC):
    """The relay's last published position, writable only while its holder leads."""

    @abstractmethod
    async def load(self) -> int: ...

    @abstractmethod
    async def save(self, position: int) -> None: ...


class EventStore(ABC):
    """Append-only store of accepted events with a global, commit-ordered position."""

    @abstractmethod
    async def append(self, events: Sequence[NewEvent], *, all_or_nothing: bool = True) -> AppendResult:
        """Decide and store a batch in one transaction (see domain.admission): links and erasures included.

        All or nothing: any refusal stores nothing and the result lists the refusals. Otherwise the refused
        events are left out and the rest is stored.
        """

    @abstractmethod
    async def read_from(self, position: int, limit: int) -> list[StoredEvent]:
        """Events after `position`, in position order."""

    @abstractmethod
    async def head(self) -> int:
        """The newest stored position (0 for an empty store)."""

    async def read_log(self, position: int, limit: int, shard: int = 0, shards: int = 1) -> EventLogPage:
        """Events after `position` as one page of the event log (what a projection rebuild reads); with
        `shards` > 1, only the customers of `shard`, so that several processes can rebuild side by side."""
        events = [e for e in await self.read_from(position, 1 << 62) if shard_of(e.customer_id, shards) == shard]
        events = events[:limit]
        body = b"".join(event.document + b"\n" for event in events)
        last = events[-1].position if events else position
        return EventLogPage(body, len(events), last, max(last, await self.head()))

    @abstractmethod
    async def ping(self) -> None:
        """Raise EventStoreUnavailableError unless the store answers."""

    @abstractmethod
    async def schema_version(self) -> str | None:
        """The applied migration revision (None before the first); raises EventStoreUnavailableError."""

    @abstractmethod
    async def relay_backlog(self, name: str) -> int:
        """Stored events the relay `name` has not published yet: newest position minus its checkpoint."""

    @abstractmethod
    def leadership(self, name: str) -> AbstractAsyncContextManager[Checkpoint]:
        """Wait until this process is the only holder of `name`; yield its checkpoint."""


class RecordProducer(ABC):
    """Sends records to Kafka in batches; `send_all` returns once every record is acknowledged."""

    @abstractmethod
    async def send_all(self, topic: str, records: Sequence["OutgoingRecord"]) -> None: ...

    @abstractmethod
    async def last_values(self, topic: str) -> list[bytes]:
        """The value of the last record of each partition of `topic` (none for a missing or empty topic)."""

    @abstractmethod
    async def expired(self, topic: str) -> bool:
        """True when `topic` held records that retention has since deleted: it holds none, yet its partitions'
        end offsets are past 0. A broker that lost its data, or a recreated topic, starts again at 0."""

    @abstractmethod
    async def ping(self, timeout_s: float = 2.0) -> None:
        """Raise BrokerUnavailableError unless the cluster answers a metadata request within `timeout_s`."""


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


class IdentityDirectory(ABC):
    """Which customer a linked identity names: the identity lookup frontline people use to find a customer."""

    @abstractmethod
    async def customer_of(self, identity: IdentityKey) -> str | None:
        """The customer `identity` is linked to now, or None (never linked, unlinked, or the customer erased)."""
