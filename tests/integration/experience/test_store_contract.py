"""The identity and erasure contract of the event store, against real PostgreSQL (the `store` fixture)."""

import pytest

from ...unit.experience.store_contract import EventStoreContract

pytestmark = pytest.mark.integration


class TestPostgresEventStore(EventStoreContract):
    pass
