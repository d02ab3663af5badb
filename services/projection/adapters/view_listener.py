"""Listens on one dedicated PostgreSQL connection for the change notices workers send at commit."""

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import asyncpg
import structlog
from sqlalchemy.engine import make_url

from services.projection.adapters.accounts_and_erasure import NOTIFY_CHANNEL

log = structlog.get_logger(__name__)
_RETRY_S = 1.0


def asyncpg_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresChangeListener:
    """Calls `on_notice(customer_id, what)` per notice (`what`: a position, or 'erased'); reconnects when lost."""

    def __init__(self, database_url: str, on_notice: Callable[[str, str], None]) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._on_notice = on_notice
        self.listening = asyncio.Event()

    def _deliver(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        customer_id, _, what = payload.rpartition(":")
        self._on_notice(customer_id, what)

    async def run(self) -> None:
        while True:
            try:
                connection = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("change listener cannot connect; retrying", error=type(error).__name__)
                await asyncio.sleep(_RETRY_S)
                continue
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
            try:
                await connection.add_listener(NOTIFY_CHANNEL, self._deliver)
                self.listening.set()
                await lost.wait()
                log.warning("change listener lost its connection; reconnecting")
            finally:
                self.listening.clear()
                with contextlib.suppress(Exception):
                    await connection.close(timeout=1)
