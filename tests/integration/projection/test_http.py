"""The HTTP API on the real database, fed by the real consumer: timeline paging and read-your-writes."""

import asyncio
import uuid

import httpx
import pytest

from services.projection.bootstrap import create_app
from tests.integration.projection.conftest import Projection
from tests.unit.projection.factories import record

pytestmark = pytest.mark.integration


async def test_timeline_pages_stay_stable_while_events_arrive(projection: Projection) -> None:
    customer = f"c-{uuid.uuid4().hex[:8]}"
    minutes = [30, 5, 60, 45, 45, 10, 90, 15, 75, 20, 1]
    records = [record(customer, p, minutes=m) for p, m in enumerate(minutes, 1)]
    await projection.produce(records)
    app = create_app(projection.settings, run_consumer=True)
    async with app.router.lifespan_context(app):
        await projection.wait_for_versions(len(records))  # the first group join takes longer than min_position waits
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://projection") as client:
            view = await client.get(f"/v1/customers/{customer}", params={"min_position": len(records)})
            assert view.json()["experience"]["touchpoints"] == len(records)

            first = (await client.get(f"/v1/customers/{customer}/timeline", params={"limit": 4})).json()
            # A newer event and a late (older) one arrive while the reader pages.
            late = [record(customer, 12, minutes=500), record(customer, 13, minutes=0)]
            await projection.produce(late)
            await client.get(f"/v1/customers/{customer}", params={"min_position": 13})
            seen = [(i["time"], i["position"]) for i in first["items"]]
            cursor = first["next_cursor"]
            while cursor:
                params = {"limit": 4, "cursor": cursor}
                page = (await client.get(f"/v1/customers/{customer}/timeline", params=params)).json()
                seen.extend((i["time"], i["position"]) for i in page["items"])
                cursor = page["next_cursor"]

            assert seen == sorted(seen, reverse=True)
            assert len(seen) == len(set(seen))
            # Every original entry exactly once; the late one (older than all) is at the end; the newer one is
            # on page one of a new read, not pushed into this one.
            assert {p for _, p in seen} == set(range(1, 12)) | {13}
            fresh = (await client.get(f"/v1/customers/{customer}/timeline", params={"limit": 1})).json()
            assert fresh["items"][0]["position"] == 12
            assert (await client.get("/readyz")).status_code == 200
            assert (await client.get(f"/v1/customers/{uuid.uuid4().hex}")).status_code == 404
    await asyncio.sleep(0)
