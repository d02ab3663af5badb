"""A flood: one key sends single-event requests at ten times its rate limit, on top of the steady load.

The experience must answer 429 with `Retry-After` for what is over the limit, never 5xx, and hold no more memory
afterwards than allocator noise explains (see RSS_BOUND_MIB); what it accepted must all show in the views. A 429'd
event is dropped, as a client that gives up would drop it: the limit refuses before anything is stored, so it
must show nowhere. A request that got no answer is sent again (it may have been stored).
"""

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from services.cli.faults_load import Ingest, IngestError, server_error
from services.cli.faults_stack import RATE_LIMIT_PER_S

FLOOD_SECONDS = 20.0
# The flood's own connections, so the steady load keeps the suite's; enough that a slow answer to an accepted
# request (a store write) does not hold the flood back.
IN_FLIGHT = 64
# 20 s at 40 requests/s is 800 requests, 700 or more of them refused. What a refusal allocates (a log line, an
# answer) is freed once it is sent, and the limiter keeps one bucket per key, not per request, so RSS should move
# only by what the allocator keeps for reuse and code paths run for the first time: 0-5 MiB in trial runs. 24 MiB is
# well above that noise and still catches a leak of about 35 KB a refused request, or any state kept per request.
RSS_BOUND_MIB = 24.0


@dataclass
class Tally:
    offered: int = 0
    accepted: int = 0
    refused: int = 0  # 429 with Retry-After
    refused_bare: int = 0  # 429 without Retry-After: a client could not know when to come back
    seconds: float = 0.0  # how long the flood was offered

    @property
    def rate(self) -> float:
        return self.offered / self.seconds if self.seconds else 0.0


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no VmRSS for pid {pid}")


async def offer(ingest: Ingest, seconds: float = FLOOD_SECONDS, rate: float = 10 * RATE_LIMIT_PER_S) -> Tally:
    """Requests of one event each at `rate` a second for `seconds`, at most IN_FLIGHT at a time."""
    tally, gate, running = Tally(), asyncio.Semaphore(IN_FLIGHT), set[asyncio.Task[None]]()

    def finished(task: asyncio.Task[None]) -> None:
        running.discard(task)
        gate.release()

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=IN_FLIGHT)) as client:
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < seconds:
            if tally.offered < int(elapsed * rate):
                await gate.acquire()
                tally.offered += 1
                task = asyncio.create_task(_one(client, ingest, ingest.make_event(), tally))
                running.add(task)
                task.add_done_callback(finished)
            else:
                await asyncio.sleep(0.005)
        tally.seconds = time.monotonic() - start
        await asyncio.gather(*running)
    return tally


async def _one(client: httpx.AsyncClient, ingest: Ingest, event: dict[str, Any], tally: Tally) -> None:
    deadline = time.monotonic() + ingest.give_up_after
    while time.monotonic() < deadline:
        try:
            response = await client.post(ingest.url, json=[event], headers=ingest.headers, timeout=15)
        except httpx.HTTPError:
            ingest.ledger.retried += 1
            await asyncio.sleep(0.3)
            continue
        if response.status_code == 202:
            tally.accepted += 1
            ingest.ledger.acknowledge({event["data"]["customer_id"]: [event["id"]]}, response.json())
            return
        if response.status_code == 429:
            tally.refused += "retry-after" in response.headers
            tally.refused_bare += "retry-after" not in response.headers
            return
        if error := server_error(response, "POST /v1/events (flood)"):
            ingest.ledger.server_errors.append(error)
        elif response.status_code != 503:
            raise IngestError(f"{response.status_code} for POST /v1/events: {response.text[:300]}")
        ingest.ledger.retried += 1
        await asyncio.sleep(min(float(response.headers.get("retry-after", "0.5")), 2.0))
    ingest.ledger.undelivered += 1
