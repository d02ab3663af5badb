"""Bring the event store's schema to the newest migration, from a source tree or an installed package."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK_KEY = 0x5241_5050_4D45  # "RAPPME": replicas starting together migrate one at a time


def _upgrade(connection: Connection) -> None:
    connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})"))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def revisions() -> tuple[str | None, frozenset[str]]:
    """The newest migration this code ships and every older one (read from the files, no database needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    head = scripts.get_current_head()
    return head, frozenset(s.revision for s in scripts.walk_revisions() if s.revision != head)


async def migrate(database_url: str) -> None:
    """Run every pending experience migration in one transaction."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade)
    finally:
        await engine.dispose()
