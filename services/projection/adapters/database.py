"""One async SQLAlchemy engine per process, with orjson doing the JSON work asyncpg hands over."""

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.common.pooled_connections import replace_closed_connections


def _dumps(document: object) -> str:
    return orjson.dumps(document).decode()


def create_engine(database_url: str, pool_size: int = 5) -> AsyncEngine:
    """Lazily connecting engine: nothing touches the database until the first query."""
    # hide_parameters: an error's text (logged when a worker stops) must never carry a batch's rows, which hold
    # customers' notes and names, only the statement.
    # A pooled connection PostgreSQL has since dropped (a restart, pg_terminate_backend) is replaced at checkout
    # instead of failing the request or the batch that drew it: see replace_closed_connections.
    engine = create_async_engine(
        database_url, pool_size=pool_size, json_serializer=_dumps, json_deserializer=orjson.loads,
        hide_parameters=True,
    )  # fmt: skip
    return replace_closed_connections(engine)


def json_param(document: object) -> str:
    """A whole batch as one jsonb parameter: one round trip and one statement, however many rows."""
    return _dumps(document)
