"""The in-memory store keeps the same contract as PostgreSQL, so the unit tests built on it mean something."""

import pytest

from .fakes import FakeEventStore
from .store_contract import EventStoreContract


class TestFakeEventStore(EventStoreContract):
    @pytest.fixture
    def store(self) -> FakeEventStore:
        return FakeEventStore()
