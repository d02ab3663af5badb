"""Bring the projection's tables to the latest schema, programmatically (no alembic.ini needed)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(database_url: str) -> None:
    """Apply every pending migration; safe to call on every start (a no-op when up to date)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            # Two instances starting together must not both create the tables: serialise on an advisory lock.
            await connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7270261)")
            await connection.run_sync(_upgrade)
    finally:
        await engine.dispose()
