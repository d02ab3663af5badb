"""The interfaces the handlers need from storage and messaging; fakes and real adapters implement them."""

import asyncio
import zlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from services.experience.domain.admission import Known, LinkChange
from services.experience.domain.append import Erasure, NewEvent, Numbered
from services.experience.domain.identities import IdentityKey


class EventStoreUnavailableError(RuntimeError):
    """The event store cannot be reached right now; the caller should retry later, nothing was stored."""


class BrokerUnavailableError(RuntimeError):
    """The Kafka cluster did not answer a metadata request in time."""


class RelayFencedError(RuntimeError):
    """The relay's checkpoint belongs to another Kafka cluster than the one this relay publishes to."""

    def __init__(self, name: str, cluster_id: str, owner: str | None) -> None:
        super().__init__(f"checkpoint {name!r} belongs to Kafka cluster {owner!r}, not {cluster_id!r}")
        self.name, self.cluster_id, self.owner = name, cluster_id, owner


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
    async def save(self, position: int) -> None:
        """Raise RelayFencedError when the checkpoint no longer belongs to the leader's cluster."""


class AppendBatch(ABC):
    """One append as a unit of work, in the store's turn: read what the decision needs, write what it decided."""

    @abstractmethod
    async def known(self, events: Sequence[NewEvent]) -> Known:
        """What the store holds about these events' ids, identities and customers."""

    @abstractmethod
    async def insert(self, new: Sequence[Numbered]) -> dict[str, int]:
        """Store the new events in order; return each one's position by event id."""

    @abstractmethod
    async def save_links(self, links: Mapping[IdentityKey, LinkChange]) -> None:
        """Apply the batch's last word on each identity it touched (unlinked when `customer_id` is None)."""

    @abstractmethod
    async def erase(self, erasures: Mapping[str, str]) -> list[Erasure]:
        """Redact the customers' stored events, forget their links, remember them as erased (by event id)."""


class EventStore(ABC):
    """Append-only store of accepted events with a global, commit-ordered position."""

    @abstractmethod
    def appending(self) -> AbstractAsyncContextManager[AppendBatch]:
        """Wait for the store's append turn and open one transaction: committed when the block ends, rolled back
        when it raises. Turns are taken one at a time, so what `known` read stays true until the commit."""

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
    def leadership(
        self, name: str, cluster_id: str, wake: asyncio.Event | None = None
    ) -> AbstractAsyncContextManager[Checkpoint]:
        """Wait until this process is the only holder of `name` for Kafka cluster `cluster_id`; yield its checkpoint.

        The checkpoint belongs to the first cluster that leads it: for any other cluster, raise RelayFencedError
        (positions published to one cluster say nothing about another, and one stream must not be split).
        While the term lasts, `wake` is set whenever any process commits an append (another replica's too), so
        a leader need not poll to hear of events it did not append itself.
        """


class RecordProducer(ABC):
    """Sends records to Kafka in batches; `send_all` returns once every record is acknowledged."""

    @abstractmethod
    async def send_all(self, topic: str, records: Sequence["OutgoingRecord"]) -> dict[int, int]:
        """Send in order per partition and await every acknowledgement; for each partition sent to, the offset
        the broker gave the last batch (offsets only grow, unless the topic was recreated)."""

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

    @abstractmethod
    async def cluster_id(self) -> str:
        """The id of the Kafka cluster records go to, from its metadata ("" if the broker reports none)."""


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
