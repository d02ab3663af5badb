"""One service's Alembic migrations run up or down to a revision on a test's own connection."""

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection


def migration_to(migrations: Path, revision: str, downgrade: bool = False) -> Callable[[Connection], None]:
    """What `connection.run_sync` runs to move the schema in `migrations` to `revision`."""

    def run(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(migrations))
        config.attributes["connection"] = connection
        (command.downgrade if downgrade else command.upgrade)(config, revision)

    return run
