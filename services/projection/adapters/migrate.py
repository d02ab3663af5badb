"""Bring the projection's tables to the latest schema, programmatically (no alembic.ini needed)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_projection"  # as migrations/env.py names it


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


class SchemaBehindError(RuntimeError):
    """The database's projection schema is not at the migrations' head (migrate has not run, or an old image)."""


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:
        raise RuntimeError("the projection has no migrations")
    return head


async def check_schema(engine: AsyncEngine, head: str) -> None:
    """Raise SchemaBehindError unless the projection's version table says `head`."""
    async with engine.connect() as connection:
        found = (await connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))).scalar()
    if found != head:
        raise SchemaBehindError(f"projection schema at {found}, migrations at {head}")
