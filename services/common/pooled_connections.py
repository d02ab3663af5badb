"""A pooled PostgreSQL connection is checked on checkout by asking the driver, not the server.

SQLAlchemy's pool_pre_ping pings an asyncpg connection inside a transaction of its own (BEGIN, an empty query,
ROLLBACK, so that pgbouncer's transaction mode works): three round trips before every transaction, every read and
every batch. A connection PostgreSQL closed (a restart, a failover, pg_terminate_backend) is known to asyncpg as
soon as its socket closes, so asking it costs nothing and catches the same faults; a connection the network lost
without a word fails its first statement, as it would have failed the ping.
"""

from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine


def replace_closed_connections(engine: AsyncEngine) -> AsyncEngine:
    """Make the pool replace, at checkout, a connection its server has closed; returns `engine`."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _check(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        driver = record.driver_connection
        if driver is None or driver.is_closed():
            # The pool discards this connection and checks out another (a new one if need be).
            raise exc.DisconnectionError("PostgreSQL closed this pooled connection")

    return engine
