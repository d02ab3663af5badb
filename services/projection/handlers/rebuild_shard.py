"""One shard of a rebuild, in a process of its own: replay its customers' events, write their rows to the twins.

Each shard folds only its customers (the event log filters them), so the shards' processes share nothing but
PostgreSQL and use every core, and each holds only its share of the states in memory.
"""

import asyncio
import contextlib
import gc
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from services.projection.adapters.event_log import HttpEventLog
from services.projection.adapters.rebuild_store import PostgresRebuildStore
from services.projection.adapters.rows import MEMBER_COLUMNS, TIMELINE_COLUMNS, VIEW_COLUMNS
from services.projection.domain import FoldRules
from services.projection.handlers.replay import Replay

VIEW_CHUNK = 2000  # customers rendered and copied at a time: bounded memory for the encoded documents


@dataclass(frozen=True, slots=True)
class ShardJob:
    """Everything a shard's process needs, picklable: it starts with nothing else."""

    database_url: str
    event_log_url: str
    api_key: str | None
    page_size: int
    rules: FoldRules
    erased_before: frozenset[str]
    shard: int
    shards: int


@dataclass(frozen=True, slots=True)
class ShardReport:
    shard: int
    events: int
    customers: int
    timeline_entries: int
    erasures: dict[str, int]
    undecodable: int
    # The store's head when this shard's log came back empty: every event of its customers up to here is in.
    head: int


class Copier:
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
def collector_paused() -> Iterator[None]:
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


ShardProgress = Callable[[int], None]  # events replayed so far
# Replays one shard with adapters of its own; module-level, so a spawned process can be handed it by name.
ShardReplayer = Callable[[ShardJob, ShardProgress], Coroutine[Any, Any, ShardReport]]


async def replay_shard(
    job: ShardJob, event_log: HttpEventLog, store: PostgresRebuildStore, progress: ShardProgress = lambda events: None
) -> ShardReport:
    replay = Replay(job.rules)
    head = await _replay(replay, event_log, store, job, progress)
    for customer_id in job.erased_before & set(replay.states):
        replay.forget(customer_id, replay.states[customer_id].position)  # erased, whatever the log says
    await _write(replay, store)
    return ShardReport(
        job.shard, replay.events, len(replay.states), replay.timeline_entries, replay.erasures,
        replay.undecodable, head,
    )  # fmt: skip


async def _replay(
    replay: Replay, event_log: HttpEventLog, store: PostgresRebuildStore, job: ShardJob,
    progress: ShardProgress,
) -> int:  # fmt: skip
    """Fold the shard's pages, fetching the next while folding this one; the head its empty page named."""
    copier = Copier(store)
    try:
        with collector_paused():
            position = 0
            fetching = asyncio.ensure_future(event_log.page(position, job.shard, job.shards))
            while page := await fetching:
                if not page.lines:
                    return page.head
                position = page.last_position
                fetching = asyncio.ensure_future(event_log.page(position, job.shard, job.shards))
                rows, _ = replay.apply(page.lines)
                await copier.put("timeline_entries", TIMELINE_COLUMNS, rows)
                progress(replay.events)
        raise AssertionError("unreachable: a page is always returned")
    finally:
        await copier.close()


async def _write(replay: Replay, store: PostgresRebuildStore) -> None:
    """Each view once, the memberships, and no timeline of a customer erased while replaying."""
    copier = Copier(store)
    try:
        chunk: list[tuple[Any, ...]] = []
        for row in replay.view_rows(list(replay.states)):
            chunk.append(row)
            if len(chunk) >= VIEW_CHUNK:
                await copier.put("customer_views", VIEW_COLUMNS, chunk)
                chunk = []
        await copier.put("customer_views", VIEW_COLUMNS, chunk)
        await copier.put("account_members", MEMBER_COLUMNS, replay.membership_rows([*replay.states, *replay.former]))
    finally:
        await copier.close()
    if replay.erasures:
        async with store.transaction() as tables:
            await tables.delete_customers("timeline_entries", sorted(replay.erasures))


def run_shard(replayer: ShardReplayer, job: ShardJob, done: Any, results: Any) -> None:
    """A shard process's entry point: `done` (a shared integer) counts its events, `results` gets its report."""

    def progress(events: int) -> None:
        done.value = events

    try:
        results.put(asyncio.run(replayer(job, progress)))
    except BaseException as error:
        results.put(RuntimeError(f"shard {job.shard} of {job.shards} failed: {error!r}"))  # picklable, always
        raise
