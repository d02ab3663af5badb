"""The HTTP API over a fake reader: 404s, limits, keyset pages and read-your-writes."""

import asyncio
from typing import Any

import httpx
import pytest

from services.projection.entrypoints import api_common
from services.projection.entrypoints.cursor import encode_cursor
from services.projection.entrypoints.http import create_http_app
from services.projection.entrypoints.live import ViewHub
from tests.unit.projection.factories import event
from tests.unit.projection.fake_view_reader import FakeViewReader


@pytest.fixture
def reader() -> FakeViewReader:
    return FakeViewReader()


@pytest.fixture
async def client(reader: FakeViewReader) -> Any:
    app = create_http_app(reader)
    app.state.min_position_wait_s = 0.2  # a wait that gives up, without holding the suite for the default 2 s
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://projection") as client:
        yield client


async def test_an_unknown_customer_is_404_with_a_detail(client: httpx.AsyncClient) -> None:
    cursor = encode_cursor("2026-01-01T00:00:00+00:00", 7)  # a page of a customer since erased, say
    paths = ("/v1/customers/nobody", "/v1/customers/nobody/timeline", f"/v1/customers/nobody/timeline?cursor={cursor}")
    for path in paths:
        response = await client.get(path)
        assert response.status_code == 404
        assert "nobody" in response.json()["detail"]


async def test_the_view_is_served_as_the_contract_describes(client: httpx.AsyncClient, reader: FakeViewReader) -> None:
    reader.fold("c-1", [event("c-1", 1, sentiment=0.9, channel="web")])
    body = (await client.get("/v1/customers/c-1")).json()
    assert body["experience"]["by_channel"] == {"web": 1}
    assert body["version"] == 1


async def test_timeline_pages_are_newest_first_and_complete(client: httpx.AsyncClient, reader: FakeViewReader) -> None:
    minutes = [5, 50, 20, 20, 1, 33, 40]  # two at the same time: position breaks the tie
    reader.fold("c-1", [event("c-1", p, minutes=m) for p, m in enumerate(minutes, 1)])
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/customers/c-1/timeline", params=params)).json()
        seen.extend((item["time"], item["position"]) for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(minutes) == len(set(seen))
    assert seen == sorted(seen, reverse=True)


async def test_limit_outside_1_to_200_and_a_forged_cursor_are_refused(
    client: httpx.AsyncClient, reader: FakeViewReader
) -> None:
    reader.fold("c-1", [event("c-1", 1)])
    assert (await client.get("/v1/customers/c-1/timeline", params={"limit": 0})).status_code == 422
    assert (await client.get("/v1/customers/c-1/timeline", params={"limit": 201})).status_code == 422
    assert (await client.get("/v1/customers/c-1/timeline", params={"cursor": "bm9wZQ"})).status_code == 400


async def test_min_position_gives_up_with_the_current_view_rather_than_hang(
    client: httpx.AsyncClient, reader: FakeViewReader
) -> None:
    reader.fold("c-1", [event("c-1", 1)])
    response = await client.get("/v1/customers/c-1", params={"min_position": 99})
    assert response.json()["position"] == 1
    assert response.headers["Rapport-Min-Position"] == "timed-out"


async def test_min_position_says_when_it_was_reached(client: httpx.AsyncClient, reader: FakeViewReader) -> None:
    reader.fold("c-1", [event("c-1", 1), event("c-1", 2)])
    reader.accounts["a-1"] = {"account_id": "a-1", "version": 1, "position": 2, "members": [], "health": {}}
    for path in ("/v1/customers/c-1", "/v1/customers/c-1/timeline", "/v1/accounts/a-1"):
        assert (await client.get(path, params={"min_position": 2})).headers["Rapport-Min-Position"] == "reached"
        assert "Rapport-Min-Position" not in (await client.get(path)).headers
    contact = await client.get("/v1/customers/c-1/contact", params={"purpose": "service", "min_position": 3})
    assert contact.headers["Rapport-Min-Position"] == "timed-out"


async def test_min_position_is_answered_on_the_change_notice_not_the_next_poll(
    reader: FakeViewReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The poll comes only after the wait has given up: only the worker's notice can get this read its answer.
    monkeypatch.setattr(api_common, "_POLL_S", 30.0)
    app = create_http_app(reader)
    app.state.min_position_wait_s = 10.0
    hub: ViewHub = app.state.hub
    reader.fold("c-1", [event("c-1", 1)])

    async def commit_then_notify() -> None:
        while not hub.subscribers("c-1"):  # noqa: ASYNC110 - the read waits in another task; its subscription is the sign
            await asyncio.sleep(0.01)
        reader.fold("c-1", [event("c-1", 2)])
        hub.publish("c-1", "2")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://projection") as client:
        notifier = asyncio.create_task(commit_then_notify())
        response = await asyncio.wait_for(client.get("/v1/customers/c-1", params={"min_position": 2}), 20)
        await notifier
    assert response.headers["Rapport-Min-Position"] == "reached"
    assert response.json()["position"] == 2
    assert hub.subscribers("c-1") == 0  # the wait left the hub


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).json()["status"] == "ready"


async def test_contact_answers_with_reasons_and_how(client: httpx.AsyncClient, reader: FakeViewReader) -> None:
    reader.fold("c-1", [event("c-1", 1, "preference", preferences={"language": "de"})])
    body = (await client.get("/v1/customers/c-1/contact", params={"purpose": "marketing", "channel": "email"})).json()
    assert body["allowed"] is False and body["how"] == {"language": "de"}
    body = (await client.get("/v1/customers/c-1/contact", params={"purpose": "service"})).json()
    assert body["allowed"] is True
    assert (
        await client.get("/v1/customers/c-1/contact", params={"purpose": "marketing", "channel": "fax"})
    ).status_code == 422
    assert (await client.get("/v1/customers/nobody/contact", params={"purpose": "service"})).status_code == 404


async def test_contact_by_sms_answers_from_the_sms_consent(client: httpx.AsyncClient, reader: FakeViewReader) -> None:
    reader.fold("c-1", [
        event("c-1", 1, "consent", purpose="marketing", channel="sms", granted=True, event_id="sms-yes"),
        event("c-1", 2, "consent", purpose="marketing", channel="phone", granted=False),
        event("c-1", 3, "preference", preferences={"channel": "sms"}),
    ])  # fmt: skip
    by_sms = (await client.get("/v1/customers/c-1/contact", params={"purpose": "marketing", "channel": "sms"})).json()
    by_phone = await client.get("/v1/customers/c-1/contact", params={"purpose": "marketing", "channel": "phone"})
    assert by_sms["allowed"] is True and "on sms was granted" in by_sms["reasons"][0]
    assert "sms-yes" in by_sms["reasons"][0] and by_sms["how"] == {"channel": "sms"}
    assert by_phone.json()["allowed"] is False


async def test_timeline_filters(client: httpx.AsyncClient, reader: FakeViewReader) -> None:
    reader.fold("c-1", [
        event("c-1", 1, channel="web", sentiment=0.9, minutes=0),
        event("c-1", 2, channel="store", sentiment=-0.9, minutes=10),
        event("c-1", 3, channel="web", kind="complaint", sentiment=-0.9, minutes=20),
    ])  # fmt: skip

    async def positions(**params: Any) -> list[int]:
        page = (await client.get("/v1/customers/c-1/timeline", params=params)).json()
        return [item["position"] for item in page["items"]]

    assert await positions(channel="web") == [3, 1]
    assert await positions(feeling="negative", kind="complaint") == [3]
    assert await positions(since="2025-01-01T00:10:00Z", until="2025-01-01T00:20:00Z") == [2]


async def test_an_unknown_account_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/accounts/nobody")).status_code == 404


async def test_a_stream_sends_the_view_then_changes_then_erasure(reader: FakeViewReader) -> None:
    reader.fold("c-1", [event("c-1", 1)])
    hub = ViewHub()
    app = create_http_app(reader, hub)

    async def change_then_erase() -> None:
        for _ in range(100):
            if hub.subscribers("c-1"):
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # the initial view goes out first
        reader.fold("c-1", [event("c-1", 1), event("c-1", 2)])
        hub.publish("c-1", "2")
        hub.publish("c-1", "erased")

    task = asyncio.create_task(change_then_erase())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as client:
        response = await client.get("/v1/customers/c-1/stream")
    await task
    assert response.headers["content-type"].startswith("text/event-stream")
    blocks = [b for b in response.text.split("\n\n") if b]
    assert [b.splitlines()[0] for b in blocks] == ["event: view", "event: view", "event: erased"]
    assert "id: 2" in blocks[1]
    assert not hub.subscribers("c-1")


def test_a_slow_subscriber_is_dropped_without_holding_up_others() -> None:
    hub = ViewHub(queue_size=2)
    slow, fast = hub.subscribe("c-1"), hub.subscribe("c-1")
    for position in range(3):
        hub.publish("c-1", str(position))
        fast.queue.get_nowait()
    assert slow.dropped and not fast.dropped
    assert hub.subscribers("c-1") == 1
