"""Listens on one dedicated PostgreSQL connection for the change notices workers send at commit, but only while
someone is watching (and a few seconds after): with no live subscriber the process would spend its CPU parsing
notices nobody reads. Subscribers are live streams, the brief's live updates and read-your-writes waits."""

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import asyncpg
import structlog
from sqlalchemy.engine import make_url

from services.projection.adapters.accounts_and_erasure import NOTICE_SEPARATOR, NOTIFY_CHANNEL

log = structlog.get_logger(__name__)
_RETRY_S = 1.0
# How long LISTEN outlives its last subscriber. Read-your-writes waits subscribe and leave many times a second;
# an UNLISTEN and a LISTEN between two of them would cost round trips, and the notices of those moments are lost.
LINGER_S = 10.0


def asyncpg_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class Demand:
    """Whether anyone wants notices now; the hub sets it as its first subscriber comes and its last goes."""

    def __init__(self) -> None:
        self.wanted = asyncio.Event()
        self.unwanted = asyncio.Event()
        self.unwanted.set()

    def set(self, wanted: bool) -> None:
        (self.wanted if wanted else self.unwanted).set()
        (self.unwanted if wanted else self.wanted).clear()


class PostgresChangeListener:
    """Calls `on_notice(customer_id, what)` per notice (`what`: a position, or 'erased'); reconnects when lost.

    `connected`: the connection is up. `listening`: LISTEN is in effect, so every commit from now on is heard;
    it is set only while `demand` is wanted, and for `linger_s` after."""

    def __init__(
        self, database_url: str, on_notice: Callable[[str, str], None], demand: Demand | None = None,
        linger_s: float = LINGER_S,
    ) -> None:  # fmt: skip
        self._dsn = asyncpg_dsn(database_url)
        self._linger_s = linger_s
        self._on_notice = on_notice
        self.demand = demand or Demand()
        self.connected = asyncio.Event()
        self.listening = asyncio.Event()

    def _deliver(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        on_notice = self._on_notice
        for notice in payload.split(NOTICE_SEPARATOR):
            customer_id, _, what = notice.rpartition(":")
            on_notice(customer_id, what)

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
                self.connected.set()
                await self._serve(connection, lost)
                log.warning("change listener lost its connection; reconnecting")
            finally:
                self.connected.clear()
                self.listening.clear()
                with contextlib.suppress(Exception):
                    await connection.close(timeout=1)

    async def _serve(self, connection: asyncpg.Connection, lost: asyncio.Event) -> None:
        """LISTEN while wanted (and `linger_s` after), UNLISTEN when not, until the connection is lost."""
        while not lost.is_set():
            if not await _first(self.demand.wanted, lost):
                return
            await connection.add_listener(NOTIFY_CHANNEL, self._deliver)
            self.listening.set()
            while True:
                if not await _first(self.demand.unwanted, lost):
                    return
                if not await _first(self.demand.wanted, lost, timeout=self._linger_s):  # nobody came back
                    if lost.is_set():
                        return
                    break
            self.listening.clear()  # before UNLISTEN: a new subscriber waits for the next LISTEN
            await connection.remove_listener(NOTIFY_CHANNEL, self._deliver)


async def _first(event: asyncio.Event, lost: asyncio.Event, timeout: float | None = None) -> bool:
    """Wait for `event` or `lost` (at most `timeout` seconds); True if `event` is set."""
    if not event.is_set() and not lost.is_set():
        waits = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(lost.wait())]
        _, pending = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for wait in pending:
            wait.cancel()
    return event.is_set() and not lost.is_set()
