"""What most of the write side's unit tests start from: an empty in-memory event store of their own."""

import pytest

from .fakes import FakeEventStore


@pytest.fixture
def store() -> FakeEventStore:
    return FakeEventStore()
