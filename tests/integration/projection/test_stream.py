"""The live stream across processes' connections: a worker commits, pg_notify wakes the HTTP listener."""

import asyncio
import uuid

import httpx
import pytest
import uvicorn

from services.cli.embedded import free_port
from services.projection.bootstrap import create_app
from tests.integration.projection.conftest import Projection
from tests.unit.projection.factories import record

pytestmark = pytest.mark.integration


async def test_a_stream_follows_a_customer_until_erased(projection: Projection) -> None:
    customer = f"c-{uuid.uuid4().hex[:8]}"
    await projection.produce([record(customer, 1, sentiment=0.5)])
    worker = projection.start()  # the worker and the API share nothing but PostgreSQL
    port = free_port()
    app = create_app(projection.settings, run_consumer=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        await projection.wait_for_versions(1)
        for _ in range(200):  # uvicorn has no started event to await
            if server.started:
                break
            await asyncio.sleep(0.05)
        await asyncio.wait_for(app.state.change_listener.connected.wait(), 10)
        assert not app.state.change_listener.listening.is_set()  # nobody streams yet: no LISTEN, no notices
        events: list[tuple[str, str]] = []
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
            client.stream("GET", f"/v1/customers/{customer}/stream") as response,
        ):
            assert response.headers["content-type"].startswith("text/event-stream")
            kind = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("id: "):
                    events.append((kind, line.removeprefix("id: ")))
                    if len(events) == 1:
                        await projection.produce([record(customer, 2, sentiment=-0.5)])
                    elif len(events) == 2:
                        await projection.produce([record(customer, 3, "erased")])
                elif line.startswith("data: ") and kind == "erased":
                    events.append((kind, line))
        assert events[:2] == [("view", "1"), ("view", "2")]
        assert events[2][0] == "erased" and customer in events[2][1]
    finally:
        server.should_exit = True
        await serving
        await worker.stop()
