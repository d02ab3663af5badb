"""Rebuild every view from the event store, while the workers keep serving, and swap the result in at once.

1. Replay the event log up to its head into memory (no lock): each customer's events folded together, timeline
   rows streamed into the twin tables with COPY as they come.
2. Write each customer's view once, then index the twins.
3. Take the live tables' write lock (a batch in flight finishes, the next waits; reads go on), replay what was
   stored meanwhile, write the accounts, swap the twins in, commit.
4. Publish the views that changed (and tombstones, accounts) the way a worker does after a crash.

Why nothing is lost or counted twice: the event store makes positions visible in commit order, so under the lock
the rebuilt tables hold every event up to the store's head. Everything the workers consumed before the swap was
stored before it, so it is in; what they consume after has a higher position, or is skipped as already applied.
"""

import asyncio
import contextlib
import gc
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from services.projection.adapters.event_log import HttpEventLog
from services.projection.adapters.rebuild_store import (
    ACCOUNT_COLUMNS,
    MEMBER_COLUMNS,
    TIMELINE_COLUMNS,
    VIEW_COLUMNS,
    PostgresRebuildStore,
    RebuildTables,
)
from services.projection.domain import AccountRules, FoldRules
from services.projection.handlers.replay import Replay

log = structlog.get_logger(__name__)

VIEW_CHUNK = 2000  # customers rendered and copied at a time: bounded memory for the encoded documents


@dataclass(frozen=True, slots=True)
class RebuildReport:
    events: int
    customers: int
    accounts: int
    timeline_entries: int
    erased: int
    undecodable: int
    caught_up: int  # events stored while the rebuild ran, replayed under the lock
    seconds: float
    locked_seconds: float
    published: int = 0

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


Progress = Callable[[int, int], None]  # (events replayed, the store's head position)


class _Copier:
    """COPY in the background, one chunk at a time, so PostgreSQL ingests while Python folds the next page."""

    def __init__(self, store: PostgresRebuildStore) -> None:
        self._store = store
        self._queue: asyncio.Queue[tuple[str, Sequence[str], list[tuple[Any, ...]]] | None] = asyncio.Queue(4)
        self._task = asyncio.create_task(self._run(), name="rebuild-copier")

    async def put(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if rows:
            if self._task.done():
                await self._task  # raise what stopped it
            await self._queue.put((table, columns, rows))

    async def close(self) -> None:
        await self._queue.put(None)
        await self._task

    async def _run(self) -> None:
        while (item := await self._queue.get()) is not None:
            async with self._store.transaction() as tables:
                await tables.copy(*item)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The replay builds millions of long-lived objects and frees almost none: the cyclic collector would walk
    them again and again (a quarter of the replay's time, measured) for nothing to collect."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.freeze()  # what the replay built is kept to the end: leave it out of later collections too


class Rebuild:
    def __init__(
        self, event_log: HttpEventLog, store: PostgresRebuildStore, rules: FoldRules, account_rules: AccountRules,
        publish: Callable[[], Awaitable[int]] | None = None, progress: Progress | None = None,
    ) -> None:  # fmt: skip
        self._log, self._store, self._rules, self._account_rules = event_log, store, rules, account_rules
        self._publish, self._progress = publish, progress or (lambda done, head: None)
        self._accounts = 0

    async def __call__(self) -> RebuildReport:
        started = time.perf_counter()
        async with self._store.exclusive():
            async with self._store.transaction() as tables:
                await tables.create()
                erased_before = await tables.erased()
            replay = Replay(self._rules)
            position = await self._replay_history(replay)
            for customer_id in erased_before & set(replay.states):
                replay.forget(customer_id, replay.states[customer_id].position)  # erased, whatever the log says
            await self._write_views(replay, replay.states)
            async with self._store.transaction() as tables:
                await tables.index(("customer_views", "timeline_entries"))
            locked = time.perf_counter()
            async with self._store.transaction() as tables:
                caught_up = await self._catch_up(tables, replay, position)
                locked_seconds = time.perf_counter() - locked
        published = await self._publish() if self._publish is not None else 0
        report = RebuildReport(
            replay.events, len(replay.states), self._accounts, replay.timeline_entries, len(replay.erasures),
            replay.undecodable, caught_up, time.perf_counter() - started, locked_seconds, published,
        )  # fmt: skip
        log.info("views rebuilt", **{k: getattr(report, k) for k in RebuildReport.__slots__})
        return report

    async def _replay_history(self, replay: Replay) -> int:
        """Replay up to the head; fetch the next page while folding this one. Returns the last position."""
        copier = _Copier(self._store)
        position = 0
        try:
            with _collector_paused():
                fetching = asyncio.ensure_future(self._log.page(position))
                while page := await fetching:
                    if not page.lines:
                        break
                    position = page.last_position
                    fetching = asyncio.ensure_future(self._log.page(position))
                    rows, _ = replay.apply(page.lines)
                    await copier.put("timeline_entries", TIMELINE_COLUMNS, rows)
                    self._progress(replay.events, page.head)
        finally:
            await copier.close()
        return position

    async def _write_views(self, replay: Replay, customer_ids: Iterable[str]) -> None:
        copier = _Copier(self._store)
        try:
            chunk: list[tuple[Any, ...]] = []
            for row in replay.view_rows(customer_ids):
                chunk.append(row)
                if len(chunk) >= VIEW_CHUNK:
                    await copier.put("customer_views", VIEW_COLUMNS, chunk)
                    chunk = []
            await copier.put("customer_views", VIEW_COLUMNS, chunk)
        finally:
            await copier.close()

    async def _catch_up(self, tables: RebuildTables, replay: Replay, position: int) -> int:
        """Under the live tables' write lock: the rest of the log, the accounts, the swap."""
        await tables.lock_live()
        before, changed = replay.events, set()
        async for page in self._log.pages(position):
            rows, customers = replay.apply(page.lines)
            changed |= customers
            await tables.copy("timeline_entries", TIMELINE_COLUMNS, rows)
            self._progress(replay.events, page.head)
        await tables.delete_customers("customer_views", sorted(changed | set(replay.erasures)))
        await tables.copy("customer_views", VIEW_COLUMNS, replay.view_rows(sorted(changed)))
        await tables.delete_customers("timeline_entries", sorted(replay.erasures))
        await tables.record_erased(replay.erasures)
        members, accounts = replay.accounts(self._account_rules)
        self._accounts = len(accounts)
        await tables.copy("account_members", MEMBER_COLUMNS, members)
        await tables.copy("account_views", ACCOUNT_COLUMNS, accounts)
        await tables.index(("account_members", "account_views"))
        await tables.swap()
        return replay.events - before
