"""In-memory stand-ins for the projection's ports and for Kafka records, for tests that need no PostgreSQL or Kafka."""

import copy
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from contracts.canonical import HEADER_TRACEPARENT
from services.projection.adapters.ports import BatchTransaction, ViewPublisher, ViewStore
from services.projection.domain.redaction import redact
from tests.unit.projection.fake_tables import FakeBatchTransaction, Tables
from tests.unit.projection.fake_view_reader import FakeViewReader

# FakeViewReader: for tests/browser
__all__ = ["FakeRecord", "FakeTopicRecord", "FakeViewPublisher", "FakeViewReader", "FakeViewStore"]


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

    async def last_positions(self, group: str, topic: str) -> dict[int, int]:
        return {p: position for (g, t, p), position in self.tables.last_positions.items() if (g, t) == (group, topic)}

    async def mark_published(self, views: dict[str, int], tombstones: list[str] | None = None) -> None:
        async with self.transaction() as tx:
            await tx.mark_published(views)
            await tx.mark_tombstones_published(tombstones or [])


@dataclass(frozen=True)
class FakeTopicRecord:
    """A record as a subscriber of the view topic would read it: a tombstone has no value."""

    key: str
    value: bytes | None
    headers: dict[str, bytes] = field(default_factory=dict)


class FakeViewPublisher(ViewPublisher):
    """Records every publish call (views as sent, their traceparents, tombstoned keys) and what each put on the
    topic, redacted as KafkaViewPublisher redacts. `key_field` as KafkaViewPublisher's; None keys each view by its
    own id (customer_id, else account_id), so one fake serves either topic. Publishers given one `topic` list
    share it, as publishers onto one Kafka topic do."""

    def __init__(
        self, personal_data: bool = False, key_field: str | None = None, topic: list[FakeTopicRecord] | None = None
    ) -> None:
        self.published: list[list[dict[str, Any]]] = []  # one list a call
        self.traceparents: dict[str, str] = {}
        self.tombstones: list[list[str]] = []  # one list a call
        self.topic: list[FakeTopicRecord] = [] if topic is None else topic  # in the order sent
        self.down = False  # publishing raises, as it does when the broker cannot be reached
        self._personal_data, self._key_field = personal_data, key_field

    async def publish(
        self, views: list[dict[str, Any]], traceparents: Mapping[str, str] | None = None,
        serialised: list[bytes] | None = None,
    ) -> None:  # fmt: skip
        if self.down:
            raise ConnectionError("the broker is unreachable")
        self.published.append(copy.deepcopy(views))
        self.traceparents.update(traceparents or {})
        traces = traceparents or {}
        values = serialised if serialised is not None else [orjson.dumps(view) for view in views]
        for view, value in zip(views, values, strict=True):
            key = self._key_of(view)
            if not self._personal_data and (redacted := redact(view)) != view:
                value = orjson.dumps(redacted)
            traceparent = traces.get(key)
            headers = {} if traceparent is None else {HEADER_TRACEPARENT: traceparent.encode()}
            self.topic.append(FakeTopicRecord(key, value, headers))

    async def publish_tombstones(self, keys: list[str]) -> None:
        if self.down:
            raise ConnectionError("the broker is unreachable")
        self.tombstones.append(list(keys))
        self.topic.extend(FakeTopicRecord(key, None) for key in keys)

    def views(self) -> list[dict[str, Any]]:
        return [view for call in self.published for view in call]

    def latest(self) -> dict[str, FakeTopicRecord]:
        """The last record per key: what a subscriber reads from the compacted topic."""
        return {record.key: record for record in self.topic}

    def _key_of(self, view: dict[str, Any]) -> str:
        field_name = self._key_field or ("customer_id" if "customer_id" in view else "account_id")
        key: str = view[field_name]
        return key
