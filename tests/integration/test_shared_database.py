"""Both services may share one database (the default for `rapport dev`): their schemas must not collide."""

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.experience.adapters.migrate import migrate as migrate_experience
from services.projection.adapters.migrate import migrate as migrate_projection

pytestmark = pytest.mark.integration


async def test_both_services_migrate_into_one_database_in_either_order(database_factory) -> None:
    for first, second in [(migrate_experience, migrate_projection), (migrate_projection, migrate_experience)]:
        url = await database_factory()
        await first(url)
        await second(url)
        await first(url)  # migrating again is a no-op
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            versions = {
                row[0]
                for row in await conn.execute(
                    text("SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'alembic_version_%'")
                )
            }
        await engine.dispose()
        assert versions == {"alembic_version_experience", "alembic_version_projection"}
