"""Trace context from an event record to its view record, metrics of a real worker, health and readiness of a real
app, and database errors that carry no personal data into the logs."""

import asyncio
import uuid

import httpx
import orjson
import pytest
import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.cli.embedded import free_port
from services.projection.adapters.metrics import ProjectionMetrics
from services.projection.adapters.view_store import PostgresViewStore
from services.projection.bootstrap import create_app, start_worker
from tests.integration.projection.conftest import Projection
from tests.unit.projection.factories import record

pytestmark = pytest.mark.integration

TRACE_ID = uuid.uuid4().hex
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


async def view_records(projection: Projection) -> dict[str, dict[str, bytes]]:
    """The headers of the latest record per key on the view topic."""
    return {key: dict(r.headers or ()) for key, r in (await projection.latest_records()).items()}


async def test_a_traced_event_yields_a_view_record_with_its_trace_and_metrics_count_the_batch(
    projection: Projection,
) -> None:
    traced, untraced = f"c-{uuid.uuid4().hex[:8]}", f"c-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=projection.bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        for position, (customer, headers) in enumerate(
            [(traced, [("traceparent", TRACEPARENT.encode())]), (untraced, []), (traced, [])], 1
        ):
            value = orjson.dumps(record(customer, position, sentiment=0.5))
            await producer.send_and_wait(
                projection.settings.events_topic, value, key=customer.encode(), headers=[("ce_type", b"x"), *headers]
            )
    finally:
        await producer.stop()
    metrics = ProjectionMetrics()
    worker = start_worker(projection.settings, metrics=metrics)
    try:
        await projection.wait_for_versions(3)
        for _ in range(100):  # published after the commit
            headers = await view_records(projection)
            if traced in headers and untraced in headers:
                break
            await asyncio.sleep(0.1)
        assert headers[traced]["traceparent"].decode()[3:35] == TRACE_ID
        assert "traceparent" not in headers[untraced]
        exposition = metrics.exposition().decode()
        assert "rapport_projection_events_applied_total 3.0" in exposition
        assert "rapport_projection_freshness_seconds_count" in exposition
        assert 'rapport_views_published_total{kind="customer"}' in exposition
        assert 'rapport_projection_lag{partition="0"} 0.0' in exposition
        assert traced not in exposition and untraced not in exposition
        assert worker.status.total_lag() == 0
    finally:
        await worker.stop()


async def test_readyz_checks_database_schema_broker_and_lag(projection: Projection) -> None:
    app = create_app(projection.settings, run_consumer=True)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as client:
            for _ in range(100):  # the lag is unknown (and counts as caught up) until the group is joined
                body = (await client.get("/readyz")).json()
                if body.get("lag") is not None:
                    break
                await asyncio.sleep(0.1)
    assert body == {
        "status": "ready", "lag": 0,
        "checks": {"database": "ok", "schema": "ok", "broker": "ok", "consumer": "ok", "consumer_lag": "ok"},
    }  # fmt: skip


async def test_readyz_is_503_without_a_broker(projection: Projection) -> None:
    settings = projection.settings.model_copy(update={"kafka_bootstrap": f"127.0.0.1:{free_port()}"})
    app = create_app(settings, run_consumer=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as client:
            response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("failed")
    assert response.json()["checks"]["database"] == "ok"


async def test_a_crashed_consumer_fails_health_and_readiness_and_logs_no_personal_data(
    projection: Projection,
) -> None:
    customer, secret = f"c-{uuid.uuid4().hex[:8]}", f"secret-note-{uuid.uuid4().hex}"
    async with projection.engine.begin() as connection:
        await connection.execute(text("DROP TABLE timeline_entries"))  # the next batch's insert fails for good
    app = create_app(projection.settings, run_consumer=True)
    with structlog.testing.capture_logs() as logs:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as client:
                assert (await client.get("/healthz")).status_code == 200
                await projection.produce([record(customer, 1, sentiment=-0.5, note=secret)])
                for _ in range(300):
                    health = await client.get("/healthz")
                    if health.status_code != 200:
                        break
                    await asyncio.sleep(0.1)
                ready = await client.get("/readyz")
    assert health.status_code == 503 and health.json()["checks"] == {"consumer": "failed: ConsumerStoppedError"}
    assert ready.status_code == 503 and ready.json()["checks"]["consumer"] == "failed: ConsumerStoppedError"
    assert ready.json()["checks"]["database"] == "ok"
    assert any(entry["event"] == "projection consumer stopped" for entry in logs)
    assert secret not in repr(logs)


async def test_a_database_error_carries_no_parameter_values(projection: Projection) -> None:
    secret = f"secret-note-{uuid.uuid4().hex}"
    row = ("c-1", {"event_id": "e-1", "position": 1, "time": "not a time", "channel": "store", "kind": "complaint",
                   "feeling": "negative", "note": secret})  # fmt: skip
    with pytest.raises(DBAPIError) as raised:
        async with PostgresViewStore(projection.engine).transaction() as tx:
            await tx.add_timeline([row])
    # str() is what a traceback shows (a `worker` process that stops prints one), repr() what the crash log line
    # holds: the statement, to find the fault by, and none of the rows.
    assert "INSERT INTO timeline_entries" in str(raised.value)
    assert secret not in str(raised.value) and secret not in repr(raised.value)
