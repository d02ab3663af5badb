"""The faults the suite injects into a running `rapport dev`, each while touchpoints keep arriving."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg

from services.cli.faults_flood import RSS_BOUND_MIB, offer, rss_mib
from services.cli.faults_ledger import Ledger
from services.cli.faults_load import Ingest
from services.cli.faults_stack import RATE_LIMIT_PER_S, DevStack
from services.cli.faults_whole import restart_whole

TERMINATE = """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
               WHERE pid <> pg_backend_pid() AND datname IS NOT NULL"""


@dataclass
class FaultContext:
    """What a fault needs: the stack to hurt, the ledger to watch, and where to note what it saw."""

    stack: DevStack
    ledger: Ledger
    events: int  # acknowledged events this cycle is meant to carry
    base: int = 0  # the ledger's total when the cycle began
    notes: list[str] = field(default_factory=list)  # what the fault did
    problems: list[str] = field(default_factory=list)  # what did not recover
    ingest: Ingest | None = None  # the scenario's steady load, for a fault that adds load of its own

    async def acknowledged(self, share: float, timeout: float = 120) -> None:
        """Waits until `share` of this cycle's events are acknowledged, so the fault lands mid-ingest."""
        goal = self.base + int(self.events * share)
        if not await _until(lambda: self.ledger.total >= goal, timeout):
            self.problems.append(f"ingest stalled at {self.ledger.total - self.base} of {goal - self.base} events")

    async def restarted(self, part: str, old_pid: int, timeout: float = 120) -> None:
        """Waits for `rapport dev` to name a new process for `part` (it rewrites dev-pids.json on a restart)."""
        if not await _until(lambda: self.stack.pids().get(part) not in (None, old_pid), timeout):
            self.problems.append(f"{part} was not restarted within {timeout:.0f} s")


async def _until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def terminate_connections(database_url: str) -> int:
    """What an operator's failover or a PgBouncer restart does: every other backend's connection is cut."""
    connection = await asyncpg.connect(database_url, timeout=10)
    try:
        return int(await connection.fetchval(TERMINATE))
    finally:
        await connection.close()


async def kill_projection(ctx: FaultContext) -> None:
    await ctx.acknowledged(0.5)  # a backlog the projection has not applied yet
    await ctx.restarted("projection", ctx.stack.kill("projection"))


async def kill_experience(ctx: FaultContext) -> None:
    await ctx.acknowledged(0.3)
    await ctx.restarted("experience", ctx.stack.kill("experience"))


async def cut_database_connections(ctx: FaultContext) -> None:
    await ctx.acknowledged(0.3)
    for _ in range(2):  # twice, 2 s apart, as the probe did: the second lands on freshly replaced connections
        ctx.notes.append(f"terminated {await terminate_connections(ctx.stack.database_url())} connection(s)")
        await asyncio.sleep(2)


async def kill_broker(ctx: FaultContext) -> None:
    await ctx.acknowledged(0.3)
    await ctx.restarted("broker", ctx.stack.kill("broker"))


async def kill_whole_stack(ctx: FaultContext) -> None:
    """kill -9 of dev and everything under it, then `rapport dev` again on the same data directory: the new
    broker starts empty, so the relay must send again from the event store what the views still lack."""
    await ctx.acknowledged(0.3)
    killed = await asyncio.to_thread(restart_whole, ctx.stack, ctx.base)
    ctx.notes.append(f"killed {len(killed)} process(es) at once; rapport dev started again on the same data dir")


async def flood(ctx: FaultContext) -> None:
    """Ten times the key's rate limit on top of the steady load: 429s, no 5xx, memory back where it was."""
    assert ctx.ingest is not None
    await ctx.acknowledged(0.3)
    pid = ctx.stack.pids()["experience"]
    before = rss_mib(pid)
    tally = await offer(ctx.ingest)
    await asyncio.sleep(2)  # what the flood's requests held is freed once their answers are sent
    after = rss_mib(pid)
    ctx.notes.append(f"{tally.offered:,} requests of one event in {tally.seconds:.0f} s ({tally.rate:.0f}/s; "
                     f"the key's limit is {RATE_LIMIT_PER_S}/s): "
                     f"{tally.accepted:,} accepted, {tally.refused:,} refused with 429 and Retry-After; "
                     f"experience RSS {before:.0f} -> {after:.0f} MiB")  # fmt: skip
    if tally.refused_bare:
        ctx.problems.append(f"{tally.refused_bare} 429(s) without Retry-After")
    if not tally.refused:
        ctx.problems.append("the flood was never refused: the rate limit did not hold")
    if after - before > RSS_BOUND_MIB:
        ctx.problems.append(f"experience RSS grew {after - before:.0f} MiB in the flood (bound {RSS_BOUND_MIB:g})")


async def add_and_remove_worker(ctx: FaultContext) -> None:
    """A scale-up and a scale-down mid-backlog: two rebalances of the consumer group while events arrive."""
    await ctx.acknowledged(0.3)
    worker, log = ctx.stack.start_worker(f"faults-worker-{ctx.base}")
    try:
        if await _until(lambda: "partitions assigned" in log.read_text(errors="replace"), 60):
            ctx.notes.append("an extra worker joined the group mid-backlog, then left it")
        else:
            ctx.problems.append(f"the extra worker got no partitions within 60 s; see {log}")
        await ctx.acknowledged(0.7)
    finally:
        worker.terminate()  # scale-down: SIGTERM, as Kubernetes or compose sends it
        await asyncio.to_thread(worker.wait, 60)


async def no_fault(ctx: FaultContext) -> None:
    await ctx.acknowledged(0.5)


@dataclass(frozen=True)
class Scenario:
    name: str
    inject: Callable[[FaultContext], Awaitable[None]]
    copies: tuple[int, int] = (1, 1)  # how many times each batch is sent
    via: str = "http"  # or "kafka": produced to cx.intake.v1, acknowledged by the broker


# One stack serves them in turn until one leaves it broken (then the next gets a fresh one); the broker's restart
# goes last all the same, as the harshest.
SCENARIOS = [
    Scenario("kill -9 projection mid-backlog", kill_projection),
    Scenario("kill -9 experience mid-ingest", kill_experience),
    Scenario("database connections terminated", cut_database_connections),
    Scenario("duplicates 2-5x over HTTP", no_fault, copies=(2, 5)),
    Scenario("duplicates 2-5x over Kafka intake", no_fault, copies=(2, 5), via="kafka"),
    Scenario("Kafka intake: kill -9 experience", kill_experience, via="kafka"),
    Scenario("Kafka intake: database connections terminated", cut_database_connections, via="kafka"),
    Scenario("projection worker added and removed", add_and_remove_worker),
    Scenario("flood at 10x the rate limit", flood),
    Scenario("kill -9 whole stack, dev started again", kill_whole_stack),
    Scenario("kill -9 broker", kill_broker),
]
