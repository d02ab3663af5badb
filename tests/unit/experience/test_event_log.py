"""`GET /v1/events`: the event log a rebuild reads, page by page, as canonical documents."""

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from .events import preference, touchpoint
from .fakes import FakeEventStore
from .http_client import BATCH, client_of, recording_api


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    store = FakeEventStore()
    app = recording_api(store)
    async with client_of(app) as http:
        yield http


async def test_the_log_pages_through_every_stored_event_in_position_order(client: httpx.AsyncClient) -> None:
    sent = [touchpoint(), preference(), touchpoint(), touchpoint(), preference()]
    await client.post("/v1/events", content=orjson.dumps(sent), headers=BATCH)

    seen, after = [], 0
    while True:
        page = await client.get("/v1/events", params={"after": after, "limit": 2})
        assert page.status_code == 200
        assert page.headers["content-type"] == "application/x-ndjson"
        assert page.headers["rapport-head"] == "5"
        documents = [orjson.loads(line) for line in page.content.splitlines()]
        assert int(page.headers["rapport-count"]) == len(documents)
        if not documents:
            assert page.headers["rapport-last-position"] == str(after)
            break
        seen.extend(documents)
        after = int(page.headers["rapport-last-position"])
        assert after == documents[-1]["position"]

    assert [d["id"] for d in seen] == [e["id"] for e in sent]
    assert [d["position"] for d in seen] == [1, 2, 3, 4, 5]


async def test_a_page_size_out_of_bounds_is_refused_with_its_parameter(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/events", params={"limit": 1_000_000})

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "query.limit"


async def test_shards_split_the_customers_and_together_are_the_whole_log(client: httpx.AsyncClient) -> None:
    sent = [touchpoint(f"c-{n % 7}") for n in range(40)]
    await client.post("/v1/events", content=orjson.dumps(sent), headers=BATCH)

    seen: dict[int, list[dict]] = {}
    for shard in range(3):
        page = await client.get("/v1/events", params={"limit": 100, "shard": shard, "shards": 3})
        seen[shard] = [orjson.loads(line) for line in page.content.splitlines()]
        assert page.headers["rapport-head"] == "40"

    customers = [{d["subject"] for d in documents} for documents in seen.values()]
    assert sum(len(c) for c in customers) == len(set().union(*customers)) == 7  # disjoint, none left out
    assert sorted(d["position"] for documents in seen.values() for d in documents) == list(range(1, 41))
    refused = await client.get("/v1/events", params={"shard": 3, "shards": 3})
    assert refused.status_code == 422
