"""Rebuild every view from the event store, while the workers keep serving, and swap the result in at once.

1. Replay the event log into twin tables, shard by shard, in processes side by side (no lock): each shard's
   customers folded in memory, every view written once, timeline rows streamed in with COPY.
2. Index the twins.
3. Take the live tables' write lock (a batch in flight finishes, the next waits; reads go on), replay what was
   stored meanwhile over the twins' states, roll the accounts up, swap the twins in, commit.
4. Publish the views that changed (and tombstones, accounts) the way a worker does after a crash.

Why nothing is lost or counted twice: the event store makes positions visible in commit order, so each shard
holds every event of its customers up to the head its last (empty) page named; the catch-up replays from the
lowest of those heads, skipping by position what a shard already has. Under the lock the rebuilt tables so hold
every event up to the store's head; everything the workers consumed before the swap was stored before it, and
what they consume after is newer, or skipped as applied.
"""

import asyncio
import multiprocessing
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from services.projection.adapters.event_log import HttpEventLog
from services.projection.adapters.rebuild_store import ACCOUNT_COLUMNS, PostgresRebuildStore, RebuildTables
from services.projection.adapters.rows import MEMBER_COLUMNS, TIMELINE_COLUMNS, VIEW_COLUMNS
from services.projection.domain import AccountRules, FoldRules
from services.projection.handlers.rebuild_shard import ShardJob, ShardReplayer, ShardReport, run_shard
from services.projection.handlers.replay import Replay, roll_up_accounts

log = structlog.get_logger(__name__)


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
    shards: int = 1

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


Progress = Callable[[int, int], None]  # (events replayed, the store's head position)


@dataclass(frozen=True, slots=True)
class RebuildPlan:
    """Where to read and write, and how to split the work: `shards` run `processes` at a time, so more shards
    than cores bound each process's memory to its share of the customers."""

    database_url: str
    event_log_url: str
    api_key: str | None
    page_size: int = 10_000
    processes: int = 2
    shards: int = 0  # 0: one per process


class Rebuild:
    """`replay_shard` replays one shard with adapters of its own, here or in a process of its own."""

    def __init__(
        self, plan: RebuildPlan, event_log: HttpEventLog, store: PostgresRebuildStore, replay_shard: ShardReplayer,
        rules: FoldRules, account_rules: AccountRules, publish: Callable[[], Awaitable[int]] | None = None,
        progress: Progress | None = None,
    ) -> None:  # fmt: skip
        self._plan, self._log, self._store, self._rules = plan, event_log, store, rules
        self._replay_shard = replay_shard
        self._account_rules, self._publish = account_rules, publish
        self._progress = progress or (lambda done, head: None)

    async def __call__(self) -> RebuildReport:
        started = time.perf_counter()
        async with self._store.exclusive():
            async with self._store.transaction() as tables:
                await tables.create()
                erased_before = frozenset(await tables.erased())
            reports = await self._replay_shards(erased_before)
            # One table a connection, side by side: each index build is a sort on one core.
            await asyncio.gather(
                *(self._index(table) for table in ("timeline_entries", "customer_views", "account_members"))
            )
            locked = time.perf_counter()
            replay = Replay(self._rules, forgotten=erased_before)
            for shard in reports:
                replay.erasures.update(shard.erasures)
            async with self._store.transaction() as tables:
                accounts = await self._catch_up(tables, replay, min(r.head for r in reports))
                locked_seconds = time.perf_counter() - locked
        published = await self._publish() if self._publish is not None else 0
        rebuilt = RebuildReport(
            sum(r.events for r in reports) + replay.events, sum(r.customers for r in reports), accounts,
            sum(r.timeline_entries for r in reports) + replay.timeline_entries, len(replay.erasures),
            sum(r.undecodable for r in reports) + replay.undecodable, replay.events,
            time.perf_counter() - started, locked_seconds, published, len(reports),
        )  # fmt: skip
        log.info("views rebuilt", **{k: getattr(rebuilt, k) for k in RebuildReport.__slots__})
        return rebuilt

    async def _index(self, table: str) -> None:
        async with self._store.transaction() as tables:
            await tables.index((table,))

    def _jobs(self, erased_before: frozenset[str]) -> list[ShardJob]:
        plan = self._plan
        shards = plan.shards or plan.processes
        return [
            ShardJob(
                plan.database_url,
                plan.event_log_url,
                plan.api_key,
                plan.page_size,
                self._rules,
                erased_before,
                shard,
                shards,
            )
            for shard in range(shards)
        ]

    async def _replay_shards(self, erased_before: frozenset[str]) -> list[ShardReport]:
        jobs = self._jobs(erased_before)
        head = await self._log.head()
        if len(jobs) == 1:  # nothing to share out: no process to start
            return [await self._replay_shard(jobs[0], lambda events: self._progress(events, head))]
        reports: list[ShardReport] = []
        finished = 0
        for start in range(0, len(jobs), self._plan.processes):
            reports += await self._run_round(jobs[start : start + self._plan.processes], finished, head)
            finished = sum(r.events for r in reports)
        return reports

    async def _run_round(self, jobs: list[ShardJob], finished: int, head: int) -> list[ShardReport]:
        """Start a process per shard (spawned: a fork would copy this event loop), report progress, collect."""
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        counters = [context.Value("q", 0) for _ in jobs]
        processes = [
            context.Process(
                target=run_shard, args=(self._replay_shard, job, counter, results), name=f"rebuild-shard-{job.shard}"
            )
            for job, counter in zip(jobs, counters, strict=True)
        ]
        for process in processes:
            process.start()
        outcomes: list[ShardReport | BaseException] = []
        try:
            while len(outcomes) < len(jobs):
                while not results.empty():
                    outcomes.append(results.get())
                self._progress(finished + sum(c.value for c in counters), head)
                if len(outcomes) < len(jobs) and not any(p.is_alive() for p in processes) and results.empty():
                    raise RuntimeError("a rebuild shard's process ended without a report")
                await asyncio.sleep(0.2)
        finally:
            for process in processes:
                process.join(timeout=5 if outcomes else 0.1)
                if process.is_alive():
                    process.terminate()
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures:
            raise failures[0]
        return [o for o in outcomes if isinstance(o, ShardReport)]

    async def _catch_up(self, tables: RebuildTables, replay: Replay, position: int) -> int:
        """Under the live tables' write lock: the rest of the log over the twins' states, the accounts, the swap.
        Returns how many account views were rolled up."""
        await tables.lock_live()
        changed: set[str] = set()
        async for page in self._log.pages(position):
            grouped = replay.decode(page.lines)
            unknown = [c for c in grouped if c not in replay.states and c not in replay.erasures]
            replay.states.update(await tables.states(unknown))
            rows, customers = replay.fold_grouped(grouped)
            changed |= customers
            await tables.copy("timeline_entries", TIMELINE_COLUMNS, rows)
        ids = sorted(changed)
        await tables.delete_customers("customer_views", ids)
        await tables.copy("customer_views", VIEW_COLUMNS, replay.view_rows(ids))
        await tables.delete_customers("account_members", ids)
        await tables.copy("account_members", MEMBER_COLUMNS, replay.membership_rows(ids))
        await tables.delete_customers("timeline_entries", sorted(set(replay.erasures) & changed))
        await tables.record_erased(replay.erasures)
        accounts = roll_up_accounts(await tables.members(), self._account_rules)
        await tables.copy("account_views", ACCOUNT_COLUMNS, accounts)
        await tables.index(("account_views",))
        await tables.swap()
        return len(accounts)
