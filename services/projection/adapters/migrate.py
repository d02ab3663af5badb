"""Bring the projection's tables to the latest schema, programmatically (no alembic.ini needed)."""

from dataclasses import dataclass
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
    """The database's projection schema is behind this code's migrations (migrate has not run, or an old database)."""


@dataclass(frozen=True, slots=True)
class Revisions:
    """The newest migration this code ships and every older one, read from the files (no database needed)."""

    head: str
    older: frozenset[str]


def known_revisions() -> Revisions:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    head = scripts.get_current_head()
    if head is None:
        raise RuntimeError("the projection has no migrations")
    return Revisions(head, frozenset(s.revision for s in scripts.walk_revisions() if s.revision != head))


async def check_schema(engine: AsyncEngine, known: Revisions) -> None:
    """Raise SchemaBehindError if the database is behind `known.head`: nothing applied, or a revision known as older.

    A revision this code does not know is a newer one: a rollout's migration Job runs before the old pods leave,
    and refusing it would turn every one of them unready at once. Keeping the previous release working on the
    new schema is that migration's job, as on the experience side."""
    async with engine.connect() as connection:
        found = (await connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))).scalar()
    if found is None or found in known.older:
        raise SchemaBehindError(f"projection schema at {found}, migrations at {known.head}")
