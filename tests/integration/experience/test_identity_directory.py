"""The identity directory contract on real PostgreSQL: the store appends, the directory reads the same tables."""

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.experience.adapters.event_store import PostgresIdentityDirectory

from ...unit.experience.identity_directory_contract import IdentityDirectoryContract

pytestmark = pytest.mark.integration


class TestPostgresIdentityDirectory(IdentityDirectoryContract):
    @pytest.fixture
    def directory(self, engine: AsyncEngine) -> PostgresIdentityDirectory:
        return PostgresIdentityDirectory(engine)
