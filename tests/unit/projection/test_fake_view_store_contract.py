"""The in-memory view store keeps the same contract as PostgreSQL, so the unit tests built on it mean something."""

import pytest

from .fakes import FakeViewStore
from .view_store_contract import ViewStoreContract


class TestFakeViewStore(ViewStoreContract):
    @pytest.fixture
    def store(self) -> FakeViewStore:
        return FakeViewStore()
