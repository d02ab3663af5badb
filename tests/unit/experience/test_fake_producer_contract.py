"""The record producer contract, against the in-memory fake the unit tests use."""

import pytest

from .events import new_id
from .fakes import FakeProducer
from .producer_contract import RecordProducerContract


class TestFakeProducer(RecordProducerContract):
    @pytest.fixture
    def producer(self) -> FakeProducer:
        return FakeProducer()

    @pytest.fixture
    def topic(self) -> str:
        return new_id("topic")
