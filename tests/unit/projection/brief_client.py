"""The keys, clock and requests the customer brief's tests share: signing in and reading a customer's brief."""

from typing import Any

import httpx

from contracts.auth import Scope, describe, new_key

EVERYTHING, VIEWS_ONLY, WRITER = new_key(), new_key(), new_key()
KEYS = ",".join([
    describe("clerk-all", EVERYTHING, list(Scope)), describe("clerk-views", VIEWS_ONLY, [Scope.VIEWS_READ]),
    describe("pos", WRITER, [Scope.EVENTS_WRITE]),
])  # fmt: skip
HOSTILE = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    return await client.post("/brief/sign-in", data={"api_key": key})


async def brief_of(client: httpx.AsyncClient, customer_id: str, **params: Any) -> str:
    response = await client.get(f"/brief/customers/{customer_id}", params=params)
    assert response.status_code == 200, response.text
    return response.text
