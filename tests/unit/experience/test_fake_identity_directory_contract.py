"""The identity directory contract, against the in-memory fake (the fake store is its own directory)."""

import pytest

from .fakes import FakeEventStore
from .identity_directory_contract import IdentityDirectoryContract


class TestFakeIdentityDirectory(IdentityDirectoryContract):
    @pytest.fixture
    def store(self) -> FakeEventStore:
        return FakeEventStore()

    @pytest.fixture
    def directory(self, store: FakeEventStore) -> FakeEventStore:
        return store
