"""Timeline filters and paging in PostgreSQL's own SQL, fed by the real consumer: what a reader asking for one
channel, kind, feeling or time window gets, page after page."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.projection.bootstrap import create_app
from tests.integration.projection.conftest import Projection
from tests.unit.projection.factories import record

pytestmark = pytest.mark.integration
SINCE, UNTIL = "2025-01-01T00:20:00Z", "2025-01-01T00:40:00Z"  # minutes 20 (inclusive) to 40 (exclusive)


@pytest.fixture
async def timeline(projection: Projection) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    customer, other = f"c-{uuid.uuid4().hex[:8]}", f"c-{uuid.uuid4().hex[:8]}"
    records = [
        record(customer, 1, minutes=0, channel="store", kind="purchase", sentiment=0.9),  # positive
        record(customer, 2, minutes=10, channel="web", kind="visit", sentiment=-0.8),  # negative
        record(customer, 3, minutes=20, channel="web", kind="complaint", sentiment=-0.9),  # negative
        record(customer, 4, minutes=20, channel="app", kind="complaint"),  # neutral, at the same time as 3
        record(customer, 5, minutes=30, channel="web", kind="purchase", sentiment=0.5),  # positive
        record(customer, 6, minutes=40, channel="phone", kind="support_case", sentiment=-0.5),  # negative
        record(customer, 7, minutes=50, channel="web", kind="complaint", sentiment=0.1),  # neutral
        record(other, 8, minutes=25, channel="web", kind="complaint", sentiment=-0.9),  # someone else's
    ]
    await projection.produce(records)
    app = create_app(projection.settings, run_consumer=True)
    async with app.router.lifespan_context(app):
        await projection.wait_for_versions(len(records))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://projection") as client:
            yield client, customer


async def positions(client: httpx.AsyncClient, customer: str, **params: Any) -> list[list[int]]:
    """Every page of the filtered timeline, following next_cursor with the same filters, as positions."""
    pages, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"/v1/customers/{customer}/timeline", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append([item["position"] for item in page["items"]])
        if (cursor := page["next_cursor"]) is None:
            return pages


async def test_filters_narrow_the_timeline_and_its_pages(timeline: tuple[httpx.AsyncClient, str]) -> None:
    # One consumer start for all of it: joining the group is most of this test's time.
    client, customer = timeline

    assert await positions(client, customer) == [[7, 6, 5, 4, 3, 2, 1]]
    assert await positions(client, customer, channel="web") == [[7, 5, 3, 2]]
    assert await positions(client, customer, kind="complaint") == [[7, 4, 3]]
    assert await positions(client, customer, feeling="negative") == [[6, 3, 2]]
    assert await positions(client, customer, feeling="positive") == [[5, 1]]
    assert await positions(client, customer, feeling="neutral") == [[7, 4]]
    assert await positions(client, customer, channel="web", feeling="negative") == [[3, 2]]
    assert await positions(client, customer, channel="chat") == [[]]

    # since is inclusive, until exclusive, whatever offset they are given in
    assert await positions(client, customer, since=SINCE, until=UNTIL) == [[5, 4, 3]]
    same_window = {"since": "2025-01-01T01:20:00+01:00", "until": "2024-12-31T19:40:00-05:00"}
    assert await positions(client, customer, **same_window) == [[5, 4, 3]]
    assert await positions(client, customer, since=UNTIL) == [[7, 6]]
    assert await positions(client, customer, until="2025-01-01T00:10:00Z") == [[1]]

    # Pages follow the filters; 4 and 3 share a time and the cursor's position tells them apart
    assert await positions(client, customer, kind="complaint", limit=1) == [[7], [4], [3]]
    assert await positions(client, customer, since=SINCE, until=UNTIL, limit=2) == [[5, 4], [3]]
    assert await positions(client, customer, channel="web", limit=2) == [[7, 5], [3, 2]]
