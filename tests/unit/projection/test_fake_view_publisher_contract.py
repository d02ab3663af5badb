"""The in-memory view publisher keeps the same contract as Kafka, so what unit tests read off it means something."""

import pytest

from services.projection.adapters.ports import ViewPublisher

from .fakes import FakeTopicRecord, FakeViewPublisher
from .view_publisher_contract import Seen, ViewPublisherContract


class FakeTopic:
    """One in-memory topic that every publisher made here writes to."""

    def __init__(self) -> None:
        self.records: list[FakeTopicRecord] = []

    def publisher(self, personal_data: bool = False) -> ViewPublisher:
        return FakeViewPublisher(personal_data=personal_data, topic=self.records)

    async def latest(self, records: int) -> dict[str, Seen]:
        assert len(self.records) == records
        return {r.key: Seen(r.value, r.headers) for r in FakeViewPublisher(topic=self.records).latest().values()}


class TestFakeViewPublisher(ViewPublisherContract):
    @pytest.fixture
    def topic(self) -> FakeTopic:
        return FakeTopic()
