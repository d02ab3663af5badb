"""Alembic environment: runs the projection's migrations on a connection handed over by `migrate()`."""

from alembic import context

VERSION_TABLE = "alembic_version_projection"  # the experience service keeps its own in the same database


def run() -> None:
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()


run()
