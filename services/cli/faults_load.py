"""The fault suite's client: sends touchpoints as a careful upstream system would and books every 202 in the ledger.

A request that fails (no answer, 503 with Retry-After, 429) is sent again until it is acknowledged, so an event the
store kept from a request whose answer was lost comes back as a duplicate and is still booked once.
"""

import asyncio
import random
import time
from collections import defaultdict
from typing import Any

import httpx

from contracts.event_types import TOUCHPOINT_RECORDED
from services.cli.faults_ledger import Ledger

BATCH = {"content-type": "application/cloudevents-batch+json"}
CHANNELS = ["store", "web", "app", "email", "phone", "chat"]
KINDS = ["purchase", "visit", "support_case", "review", "delivery"]


class IngestError(Exception):
    """The service refused what the suite sent (a 4xx): a bug in the suite, not a fault it injected."""


def server_error(response: httpx.Response, what: str) -> str | None:
    """A 5xx that counts against the system: anything but 503 with Retry-After, the documented 'retry soon'."""
    if response.status_code < 500 or (response.status_code == 503 and "retry-after" in response.headers):
        return None
    return f"{response.status_code} {what}: {response.text[:200]}"


class Ingest:
    """Batches of touchpoints for a fixed set of customers, from `workers` concurrent senders until told to stop."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        url: str,
        auth: dict[str, str],
        ledger: Ledger,
        customers: list[str],
        *,
        seed: int,
        batch: int = 100,  # 4 requests/s at 400 events/s: within the suite stack's rate limit
        copies: tuple[int, int] = (1, 1),
    ) -> None:
        self.client, self.url, self.headers, self.ledger = client, f"{url}/v1/events", {**auth, **BATCH}, ledger
        self.customers, self.batch, self.copies = customers, batch, copies
        self.random = random.Random(seed)
        self.prefix = f"fault-{seed}-{random.Random().getrandbits(32):08x}"
        self.made = 0
        self.give_up_after = 180.0
        self.rate = 400.0  # events/s offered, all workers together

    async def run(self, stop: asyncio.Event, limit: int, workers: int = 3) -> None:
        """Send until `stop` is set or `limit` events were made; every batch begun is delivered before returning."""

        async def worker() -> None:
            while not stop.is_set() and self.made < limit:
                batch = [self.make_event() for _ in range(min(self.batch, limit - self.made))]
                low, high = self.copies
                copies = self.random.randint(low, high)
                # duplicates 2-5x: the copies race each other, then one more arrives later, as a retrying client's would
                await asyncio.gather(*(self.deliver(batch) for _ in range(copies)))
                if copies > 1:
                    await self.deliver(list(reversed(batch)))
                # a steady stream at `rate` events/s across the workers, not a burst that ends before the fault lands
                await asyncio.sleep(len(batch) * workers / self.rate)

        await asyncio.gather(*(worker() for _ in range(workers)))

    async def deliver(self, batch: list[dict[str, Any]]) -> None:
        by_customer: dict[str, list[str]] = defaultdict(list)
        for event in batch:
            by_customer[event["data"]["customer_id"]].append(event["id"])
        deadline = time.monotonic() + self.give_up_after
        while time.monotonic() < deadline:
            try:
                response = await self.client.post(self.url, json=batch, headers=self.headers, timeout=15)
            except httpx.HTTPError:
                self.ledger.retried += 1
                await asyncio.sleep(0.3)
                continue
            if response.status_code == 202:
                self.ledger.acknowledge(by_customer, response.json())
                return
            if error := server_error(response, "POST /v1/events"):
                self.ledger.server_errors.append(error)
            elif response.status_code not in (429, 503):
                raise IngestError(f"{response.status_code} for POST /v1/events: {response.text[:300]}")
            self.ledger.retried += 1
            await asyncio.sleep(min(float(response.headers.get("retry-after", "0.5")), 2.0))
        self.ledger.undelivered += len(batch)

    async def close(self) -> None:
        """Nothing to release over HTTP (the client belongs to the suite); a Kafka producer overrides this."""

    async def send_one(self, customer: str) -> None:
        """One touchpoint for `customer`, delivered as any other (a probe that the whole path works again)."""
        await self.deliver([self.make_event(customer)])

    def make_event(self, customer: str | None = None) -> dict[str, Any]:
        r = self.random
        self.made += 1
        customer = customer or r.choice(self.customers)
        data = {"customer_id": customer, "channel": r.choice(CHANNELS), "kind": r.choice(KINDS),
                "sentiment": round(r.uniform(-1, 1), 2)}  # fmt: skip
        return {"specversion": "1.0", "id": f"{self.prefix}-{self.made}", "source": "rapport/faults",
                "type": TOUCHPOINT_RECORDED, "time": f"2026-0{r.randint(1, 9)}-1{r.randint(0, 9)}T10:00:00Z",
                "data": data}  # fmt: skip
