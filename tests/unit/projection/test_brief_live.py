"""The customer brief's live fragments: a touchpoint projected while a page is open arrives redacted and announced."""

import asyncio
from typing import Any

import httpx
import orjson

from services.projection.entrypoints.live import ViewHub
from tests.unit.projection.brief_client import HOSTILE, VIEWS_ONLY, sign_in
from tests.unit.projection.factories import event
from tests.unit.projection.fakes import FakeViewReader


async def live_events(client: httpx.AsyncClient, hub: ViewHub, change: Any, customer_id: str) -> list[dict[str, Any]]:
    """The live stream's events while `change` runs, until the customer is erased (which ends the stream)."""

    async def then_erase() -> None:
        for _ in range(200):
            if hub.subscribers(customer_id):
                break
            await asyncio.sleep(0.01)
        await change()
        await asyncio.sleep(0.1)
        hub.publish(customer_id, "erased")

    task = asyncio.create_task(then_erase())
    response = await client.get(f"/brief/customers/{customer_id}/live", params={"after": 1})
    await task
    blocks = [b for b in response.text.split("\n\n") if b.startswith("event:")]
    return [{"event": b.splitlines()[0][7:], **orjson.loads(b.split("data: ", 1)[1])} for b in blocks]


async def test_live_fragments_arrive_redacted_and_announced(
    client: httpx.AsyncClient, reader: FakeViewReader, hub: ViewHub
) -> None:
    reader.fold("c-live", [event("c-live", 1, note="first visit")])
    await sign_in(client, VIEWS_ONLY)

    async def touchpoint() -> None:
        events = [event("c-live", 1), event("c-live", 2, minutes=5, kind="complaint", sentiment=-0.9, note=HOSTILE)]
        reader.fold("c-live", events)
        hub.publish("c-live", "2")

    received = await live_events(client, hub, touchpoint, "c-live")
    assert [e["event"] for e in received] == ["brief", "erased"]
    update = received[0]
    assert "complaint" in update["html"] and 'felt <span class="feeling">bad</span>' in update["html"]
    assert "alert" not in update["html"] and "Hidden" in update["html"]
    assert update["announce"] == "Updated: the latest touchpoint is a complaint by store, felt as bad."
    assert "has been erased" in received[1]["html"]
