"""In-memory stand-ins for the projection's ports and for Kafka records, for tests that need no PostgreSQL or Kafka."""

import copy
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from services.projection.adapters.ports import BatchTransaction, ViewPublisher, ViewStore
from tests.unit.projection.fake_tables import FakeBatchTransaction, Tables
from tests.unit.projection.fake_view_reader import FakeViewReader

__all__ = ["FakeRecord", "FakeViewPublisher", "FakeViewReader", "FakeViewStore"]  # FakeViewReader: tests/browser


@dataclass
class FakeRecord:
    """The part of an aiokafka ConsumerRecord the batch handler reads."""

    offset: int
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


class FakeViewStore(ViewStore):
    """Commit or roll back: a transaction's writes become visible only when its block exits without an error."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.fail_next_commit = False  # the next transaction raises at its commit, as a lost connection would

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[BatchTransaction]:
        working = copy.deepcopy(self.tables)
        yield FakeBatchTransaction(working)
        if self.fail_next_commit:
            self.fail_next_commit = False
            raise ConnectionError("lost the connection at commit")
        self.tables = working

    async def stored_offsets(self, group: str, topic: str) -> dict[int, int]:
        return {p: offset for (g, t, p), (offset, _) in self.tables.offsets.items() if (g, t) == (group, topic)}

    async def mark_published(self, views: dict[str, int], tombstones: list[str] | None = None) -> None:
        async with self.transaction() as tx:
            await tx.mark_published(views)
            await tx.mark_tombstones_published(tombstones or [])


class FakeViewPublisher(ViewPublisher):
    """Records every publish call: views as sent (with their traceparents) and tombstoned keys."""

    def __init__(self) -> None:
        self.published: list[list[dict[str, Any]]] = []  # one list a call
        self.traceparents: dict[str, str] = {}
        self.tombstones: list[list[str]] = []  # one list a call
        self.down = False  # publishing raises, as it does when the broker cannot be reached

    async def publish(
        self, views: list[dict[str, Any]], traceparents: Mapping[str, str] | None = None,
        serialised: list[bytes] | None = None,
    ) -> None:  # fmt: skip
        if self.down:
            raise ConnectionError("the broker is unreachable")
        self.published.append(copy.deepcopy(views))
        self.traceparents.update(traceparents or {})

    async def publish_tombstones(self, keys: list[str]) -> None:
        if self.down:
            raise ConnectionError("the broker is unreachable")
        self.tombstones.append(list(keys))

    def views(self) -> list[dict[str, Any]]:
        return [view for call in self.published for view in call]
