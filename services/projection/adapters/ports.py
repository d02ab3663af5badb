"""The interfaces the read side's handlers and API need from storage and messaging; fakes and real adapters
implement them."""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from services.projection.adapters.rows import TimelineRow
from services.projection.adapters.state_cache import StateCache
from services.projection.domain import CustomerState, MemberRecord


@dataclass(frozen=True, slots=True)
class TimelineFilter:
    """Narrows a timeline; `since` is inclusive, `until` exclusive."""

    channel: str | None = None
    kind: str | None = None
    feeling: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(slots=True)
class ViewRows:
    """Customer view rows as columns, the shape the upsert's typed arrays take; documents already encoded."""

    ids: list[str] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    updated: list[str | None] = field(default_factory=list)
    views: list[bytes] = field(default_factory=list)
    states: list[bytes] = field(default_factory=list)
    partitions: list[int | None] = field(default_factory=list)  # of cx.events.v1, where the view's events came from

    def add(self, customer_id: str, version: int, position: int, updated_at: str | None, view: bytes,
            state: bytes, partition: int | None) -> None:  # fmt: skip
        self.ids.append(customer_id)
        self.versions.append(version)
        self.positions.append(position)
        self.updated.append(updated_at)
        self.views.append(view)
        self.states.append(state)
        self.partitions.append(partition)

    def params(self) -> dict[str, list[Any]]:
        return {"ids": self.ids, "versions": self.versions, "positions": self.positions, "updated": self.updated,
                "views": self.views, "states": self.states, "partitions": self.partitions}  # fmt: skip


class BatchTransaction(ABC):
    """The writes of one consumed batch; all of them commit together or none does."""

    @abstractmethod
    async def load_states(self, customer_ids: list[str]) -> dict[str, CustomerState]:
        """The stored fold states, their rows locked until commit."""

    @abstractmethod
    async def load_states_through(
        self, customer_ids: list[str], cache: StateCache
    ) -> tuple[dict[str, CustomerState], int]:
        """The stored states, from `cache` where it holds the current one; and the table's id, for `cache.put`."""

    @abstractmethod
    async def save_views(self, rows: ViewRows) -> None:
        """Upsert the views and states; a stored view at the same or a later position is kept."""

    @abstractmethod
    async def add_timeline(self, rows: list[TimelineRow]) -> None:
        """(customer id, timeline entry) rows, their columns as rows.timeline_columns says; known ids are kept."""

    @abstractmethod
    async def save_offsets(
        self, group: str, topic: str, next_offsets: dict[int, int], applied: dict[int, int],
        last: dict[int, int] | None = None,
    ) -> None:  # fmt: skip
        """Each partition's next offset, and the highest position the batch read from it (`applied`; a partition
        of only undecodable records has none)."""

    @abstractmethod
    async def erased_among(self, customer_ids: list[str]) -> set[str]: ...

    @abstractmethod
    async def erase(self, erasures: dict[str, int]) -> set[str]:
        """Delete the customers' views and timelines, record them as erased; return the accounts they leave."""

    @abstractmethod
    async def save_memberships(self, rows: list[dict[str, Any]]) -> None:
        """Rows of account_id, customer_id, role, member, position."""

    @abstractmethod
    async def load_members(self, account_ids: list[str]) -> dict[str, list[MemberRecord]]:
        """Every membership row of the accounts with its customer's view, the accounts locked until commit."""

    @abstractmethod
    async def save_account_views(self, views: list[dict[str, Any]]) -> dict[str, int]:
        """Upsert the views; return account id -> revision of those that changed (the ones worth publishing)."""

    @abstractmethod
    async def notify(self, payloads: list[str]) -> None:
        """Change notices for listeners, delivered at commit and never if the batch rolls back."""

    @abstractmethod
    async def lock_unpublished_accounts(self, limit: int) -> list[tuple[dict[str, Any], int]]: ...

    @abstractmethod
    async def lock_accounts_to_publish(self, account_ids: list[str]) -> list[tuple[dict[str, Any], int]]:
        """The accounts' latest views and revisions not yet on the topic, the accounts locked until commit."""

    @abstractmethod
    async def lock_unpublished_tombstones(self, limit: int) -> list[str]: ...

    @abstractmethod
    async def mark_accounts_published(self, published: dict[str, int]) -> None: ...

    @abstractmethod
    async def mark_tombstones_published(self, customer_ids: list[str]) -> None: ...

    @abstractmethod
    async def lock_unpublished(self, limit: int, after: str = "") -> list[dict[str, Any]]:
        """Views not yet on the view topic, locked so no newer version can be committed and published first;
        only customers after `after` in id order."""

    @abstractmethod
    async def mark_published(self, published: dict[str, int]) -> None: ...


class ViewStore(ABC):
    """The projection's state: views with their fold state, timeline rows, accounts, erasures, consumer offsets."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[BatchTransaction]:
        """A batch's writes, committed when the block exits normally and rolled back when it raises."""

    @abstractmethod
    async def stored_offsets(self, group: str, topic: str) -> dict[int, int]:
        """Partition -> the next offset to consume, as committed with the views."""

    @abstractmethod
    async def last_positions(self, group: str, topic: str) -> dict[int, int]:
        """Per partition, the position of the record just below its stored next offset, where it was saved."""

    @abstractmethod
    async def mark_published(self, views: dict[str, int], tombstones: list[str] | None = None) -> None:
        """Record what reached the customer view topic: views by position, and tombstones."""


class ViewPublisher(ABC):
    """Whole views keyed by their id field; a tombstone (no value) says the key's view is gone for good."""

    @abstractmethod
    async def publish(
        self, views: list[dict[str, Any]], traceparents: Mapping[str, str] | None = None,
        serialised: list[bytes] | None = None,
    ) -> None:  # fmt: skip
        """Return once every view is acknowledged; `serialised`, when given, holds each view's JSON already."""

    @abstractmethod
    async def publish_tombstones(self, keys: list[str]) -> None: ...


class ViewReader(Protocol):
    """What the HTTP API and the brief read from storage; PostgresViewReader in production, a fake in unit tests.
    A Protocol, not an ABC: the reader is read-only and the API needs only this shape of it."""

    async def get_view(self, customer_id: str) -> dict[str, Any] | None: ...

    async def get_view_applied(self, customer_id: str, position: int) -> tuple[dict[str, Any] | None, bool]:
        """The view (None: not found), and whether it has applied every event of the customer up to `position`."""
        ...

    async def get_account(self, account_id: str) -> dict[str, Any] | None: ...

    async def is_erased(self, customer_id: str) -> bool: ...

    async def timeline(
        self, customer_id: str, before: tuple[datetime, int] | None, limit: int, filters: TimelineFilter | None = None
    ) -> list[dict[str, Any]]:
        """Entries newest first by (time, position), strictly older than `before` when given."""
        ...

    async def ping(self) -> None:
        """Raises when storage cannot be reached."""
        ...
