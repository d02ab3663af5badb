"""`rapport bench-appends`: single-event producers, with PostgreSQL on this machine and then across a network.

Appends take turns (an advisory lock keeps positions visible in commit order), so while one append holds the turn
every other waits, and each round trip it makes to PostgreSQL in that time is a round trip of nobody appending.
On one machine a round trip costs microseconds; in a deployment PostgreSQL is a network hop away, and for producers
that send one touchpoint a request (a till, a web form) the round trips an append makes while holding its turn set
the ceiling. This tool measures that: concurrent single-event producers record through the real EventRecorder on a
fresh embedded PostgreSQL, directly and then through a proxy that delays every message, and it counts the messages
each append sends. A tool, not a test: nothing asserts on its figures.
"""

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import create_async_engine

from contracts import parse_event
from services.cli.bench_report import percentile
from services.cli.embedded import EmbeddedPostgres, asyncpg_dsn, ensure_database, free_port
from services.cli.loadgen import TouchpointLoad
from services.common.logs import configure_logging
from services.common.pooled_connections import replace_closed_connections
from services.experience.adapters.event_store import PostgresEventStore
from services.experience.adapters.migrate import migrate
from services.experience.domain.identities import IdentityHasher
from services.experience.handlers.record_events import EventRecorder

console = Console(highlight=False, soft_wrap=True)


class DelayingProxy:
    """TCP in front of PostgreSQL's Unix socket, holding each message `delay_s` before passing it on (each way,
    in order), and counting the messages clients send."""

    def __init__(self, socket_path: str, delay_s: float) -> None:
        self.socket_path, self.delay_s = socket_path, delay_s
        self.port = free_port()
        self.sent = 0  # messages (socket reads) from clients to PostgreSQL
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> "DelayingProxy":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_unix_connection(self.socket_path)
        with contextlib.suppress(asyncio.CancelledError):  # the run is over: nothing left to pass on
            await asyncio.gather(
                self._pass(client_reader, server_writer, counted=True),
                self._pass(server_reader, client_writer, counted=False),
                return_exceptions=True,
            )

    async def _pass(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, counted: bool) -> None:
        held: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await held.get()
                if not data:
                    break
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
            writer.close()

        delivering = asyncio.create_task(deliver())
        while data := await reader.read(1 << 16):
            self.sent += counted
            held.put_nowait((time.monotonic() + self.delay_s, data))
        held.put_nowait((0.0, b""))
        await delivering


@dataclass(frozen=True)
class Phase:
    label: str
    round_trip_ms: float
    appends_per_s: float
    p50_ms: float
    p99_ms: float
    messages_per_append: float


async def _round_trip_ms(dsn: str) -> float:
    connection = await asyncpg.connect(dsn)
    try:
        timings = []
        for _ in range(50):
            started = time.perf_counter()
            await connection.fetchval("SELECT 1")
            timings.append((time.perf_counter() - started) * 1000)
        return percentile(timings, 0.5)
    finally:
        await connection.close()


async def _producers(record: Callable[[int], Awaitable[None]], producers: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def producer(number: int) -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            await record(number)
            latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(producer(n) for n in range(producers)))
    return latencies


async def _phase(label: str, url: str, producers: int, seconds: float, proxy: DelayingProxy) -> Phase:
    engine = replace_closed_connections(create_async_engine(url, pool_size=producers))  # as the service's
    recorder = EventRecorder(PostgresEventStore(engine), IdentityHasher(b"bench-appends"))
    loads = [TouchpointLoad(customers=200, prefix=f"appends-{n}", seed=n) for n in range(producers)]  # fresh ids a run

    async def record(number: int) -> None:
        document, _, _ = loads[number].next_event()
        await recorder.record([parse_event(document)])

    try:
        await _producers(record, producers, 1.0)  # warm: the pool's connections, the prepared statements
        sent_before = proxy.sent
        latencies = await _producers(record, producers, seconds)
        messages = (proxy.sent - sent_before) / len(latencies)
    finally:
        await engine.dispose()
    return Phase(
        label, await _round_trip_ms(asyncpg_dsn(url)), len(latencies) / seconds, percentile(latencies, 0.5),
        percentile(latencies, 0.99), messages,
    )  # fmt: skip


async def _measure(postgres: EmbeddedPostgres, delay_ms: float, producers: int, seconds: float) -> list[Phase]:
    url = postgres.url("rapport_appends")
    await ensure_database(url)
    await migrate(url)
    query = parse_qs(urlsplit(url).query)
    socket_path = f"{query['host'][0]}/.s.PGSQL.{query.get('port', ['5432'])[0]}"
    phases = []
    for delay in (0.0, delay_ms):
        async with DelayingProxy(socket_path, delay / 1000) as proxy:
            through = f"postgresql+asyncpg://postgres@127.0.0.1:{proxy.port}/rapport_appends"
            label = "on this machine" if delay == 0 else f"{delay:g} ms added each way"
            phases.append(await _phase(label, through, producers, seconds, proxy))
    return phases


def run_appends(delay_ms: float, producers: int, seconds: float) -> None:
    configure_logging("bench-appends", "warning")  # not a line per accepted event
    with tempfile.TemporaryDirectory(prefix="rapport-appends-") as scratch:
        postgres = EmbeddedPostgres(Path(scratch) / "postgres").start()
        try:
            phases = asyncio.run(_measure(postgres, delay_ms, producers, seconds))
        finally:
            postgres.stop()
    table = Table(title=f"{producers} producers, one touchpoint a request, through the experience service's recorder")
    for column in ("PostgreSQL, through a proxy", "round trip p50", "appends/s", "p50 / p99", "messages per append"):
        table.add_column(column, justify="left" if column.startswith("PostgreSQL") else "right")
    for p in phases:
        table.add_row(p.label, f"{p.round_trip_ms:.2f} ms", f"{p.appends_per_s:,.0f}",
                      f"{p.p50_ms:.1f} / {p.p99_ms:.1f} ms", f"{p.messages_per_append:.1f}")  # fmt: skip
    console.print(table)
