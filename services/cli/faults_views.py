"""Reads customer views from the projection as a client would, and waits (bounded) for them to match the ledger."""

import asyncio
import time
from typing import Any

import httpx

from services.cli.faults_ledger import Ledger
from services.cli.faults_load import server_error

UNREAD = object()  # the projection did not answer (restarting): not a verdict either way


async def read_view(client: httpx.AsyncClient, url: str, auth: dict[str, str], customer: str, ledger: Ledger) -> Any:
    """The customer's view, None for 404, UNREAD when there was no usable answer."""
    try:
        response = await client.get(f"{url}/v1/customers/{customer}", headers=auth, timeout=10)
    except httpx.HTTPError:
        return UNREAD
    if error := server_error(response, f"GET /v1/customers/{customer}"):
        ledger.server_errors.append(error)
    if response.status_code == 404:
        return None
    return response.json() if response.status_code == 200 else UNREAD


async def read_views(
    client: httpx.AsyncClient, url: str, auth: dict[str, str], customers: list[str], ledger: Ledger
) -> dict[str, Any]:
    gate = asyncio.Semaphore(8)

    async def one(customer: str) -> Any:
        async with gate:
            return await read_view(client, url, auth, customer, ledger)

    views = await asyncio.gather(*(one(c) for c in customers))
    return dict(zip(customers, views, strict=True))


def version(view: Any) -> int | None:
    return int(view["version"]) if isinstance(view, dict) else None


async def wait_caught_up(
    client: httpx.AsyncClient,
    url: str,
    auth: dict[str, str],
    ledger: Ledger,
    timeout: float,
    only: set[str] | None = None,
) -> float | None:
    """Seconds until every view (or those of `only`) reached its acknowledged count, by itself; None when
    `timeout` passed first."""
    start = time.monotonic()
    behind = {c: n for c, n in ledger.expected().items() if only is None or c in only}
    while behind:
        views = await read_views(client, url, auth, list(behind), ledger)
        behind = {c: n for c, n in behind.items() if (version(views[c]) or 0) < n}
        if not behind:
            break
        if time.monotonic() - start > timeout:
            return None
        await asyncio.sleep(0.5)
    return time.monotonic() - start
