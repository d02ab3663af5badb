"""Trace context and freshness gathered while decoding, health and readiness verdicts, metrics without customer
ids."""

import asyncio
import socket
from datetime import timedelta

import httpx
import orjson
import pytest

from services.projection.adapters.metrics import ProjectionMetrics
from services.projection.bootstrap import Worker
from services.projection.domain.redaction import redact
from services.projection.entrypoints.consumer import ConsumerStatus
from services.projection.entrypoints.http import create_http_app
from services.projection.entrypoints.observability import CachedCheck, Liveness, Readiness
from services.projection.handlers.consumed_batch import Decoded, decode, freshness
from tests.unit.projection.factories import BASE, record
from tests.unit.projection.fake_view_reader import FakeViewReader
from tests.unit.projection.fakes import FakeRecord

TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
LATER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def records(*items: tuple[dict[str, object], str | None]) -> list[FakeRecord]:
    return [
        FakeRecord(offset, orjson.dumps(value), [("ce_type", b"x")] + ([("traceparent", t.encode())] if t else []))
        for offset, (value, t) in enumerate(items)
    ]


def test_each_customer_keeps_the_traceparent_of_their_latest_event_that_had_one() -> None:
    decoded = Decoded()
    decode(records(
        (record("c-1", 1), TRACE), (record("c-1", 3), None), (record("c-1", 2), LATER),
        (record("c-2", 4), "not-a-traceparent"), (record("c-3", 5), None),
    ), decoded, 0)  # fmt: skip
    assert decoded.traces == {"c-1": (2, LATER)}
    assert sum(len(events) for events in decoded.grouped.values()) == 5


def test_an_undecodable_record_is_counted_and_skipped() -> None:
    decoded = Decoded()
    decode([FakeRecord(0, b"{"), FakeRecord(1, orjson.dumps(record("c-1", 1)))], decoded, 0)
    assert decoded.undecodable == 1 and list(decoded.grouped) == ["c-1"]


def test_each_partition_keeps_its_highest_position_and_each_customer_their_partition() -> None:
    decoded = Decoded()
    # A re-delivery after a relay restart brings lower positions again behind higher ones.
    decode(records((record("c-1", 4), None), (record("c-2", 9), None), (record("c-1", 4), None)), decoded, 2)
    decode(records((record("c-3", 7), None)), decoded, 0)
    decode([FakeRecord(0, b"{")], decoded, 1)
    assert decoded.highest == {2: 9, 0: 7}  # none for a partition of only undecodable records
    assert decoded.partitions == {"c-1": 2, "c-2": 2, "c-3": 0}


def test_freshness_is_measured_for_the_oldest_and_newest_event() -> None:
    first, last = record("c-1", 1), record("c-2", 2)
    last["recordedat"] = (BASE + timedelta(seconds=3)).isoformat()
    decoded = Decoded()
    decode(records((first, None), (record("c-1", 5), None), (last, None)), decoded, 0)
    committed = (BASE + timedelta(seconds=5)).timestamp()
    assert freshness(decoded.recorded, committed) == (5.0, 2.0)
    assert freshness([], committed) == ()
    assert freshness(["yesterday"], committed) == ()


def test_redaction_leaves_the_original_alone() -> None:
    view = {"preferences": {"name_to_use": {"value": "Jo"}, "tone": {"value": "warm"}}, "note": "n"}
    assert redact(view) == {"preferences": {"tone": {"value": "warm"}}}
    assert view["note"] == "n" and "name_to_use" in view["preferences"]


async def test_readiness_names_what_failed_and_the_lag() -> None:
    async def ok() -> None:
        return None

    async def down() -> None:
        raise ConnectionRefusedError("postgresql://user:password@db")

    lag = [5]
    ready, body = await Readiness({"database": ok}, lambda: lag[0], max_lag=10).report()
    assert ready and body == {"status": "ready", "checks": {"database": "ok", "consumer_lag": "ok"}, "lag": 5}
    lag[0] = 11
    ready, body = await Readiness({"database": ok}, lambda: lag[0], max_lag=10).report()
    assert not ready and body["lag"] == 11 and "11 records behind" in body["checks"]["consumer_lag"]
    assert (await Readiness({"database": ok}, lambda: 10**9, max_lag=0).report())[0]  # 0: lag never judged
    assert (await Readiness({"database": ok}, lambda: None, max_lag=10).report())[0]  # not yet known
    ready, body = await Readiness({"database": down}).report()
    assert not ready and body["checks"] == {"database": "failed: ConnectionRefusedError"}
    assert "password" not in str(body)


async def test_a_cached_check_asks_once_per_period() -> None:
    calls, now = [], [0.0]

    async def broker() -> None:
        calls.append(now[0])
        if len(calls) == 1:
            raise OSError("down")

    check = CachedCheck(broker, ttl_s=5.0, clock=lambda: now[0])
    for _ in range(3):
        with pytest.raises(OSError):
            await check()
    now[0] = 5.0
    await check()
    await check()
    assert calls == [0.0, 5.0]


async def test_readyz_answers_503_with_the_report() -> None:
    async def down() -> None:
        raise OSError

    app = create_http_app(FakeViewReader())
    app.state.readiness = Readiness({"broker": down}, lambda: 7, max_lag=100)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "checks": {"broker": "failed: OSError", "consumer_lag": "ok"},
                               "lag": 7}  # fmt: skip


async def test_a_crashed_consumer_fails_healthz_and_readyz_until_the_process_restarts() -> None:
    crashed = asyncio.Event()

    async def consume() -> None:
        await crashed.wait()
        raise ConnectionResetError("postgresql://user:password@db")

    worker = Worker(asyncio.create_task(consume()), ConsumerStatus())
    app = create_http_app(FakeViewReader())
    app.state.liveness = Liveness({"consumer": worker.check})
    app.state.readiness = Readiness({"consumer": worker.check}, lambda: 0, max_lag=10)  # a frozen lag looks fine
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/readyz")).status_code == 200
        crashed.set()
        await asyncio.wait({worker.task})
        health, ready = await client.get("/healthz"), await client.get("/readyz")
    assert health.status_code == 503
    assert health.json() == {"status": "failed", "checks": {"consumer": "failed: ConsumerStoppedError"}}
    assert ready.status_code == 503 and ready.json()["checks"]["consumer"] == "failed: ConsumerStoppedError"
    assert "password" not in health.text + ready.text
    await worker.stop()  # shutting down after a crash: reported already, not raised again


async def test_a_stopped_consumer_is_no_crash() -> None:
    worker = Worker(asyncio.create_task(asyncio.Event().wait()), ConsumerStatus())
    await worker.check()
    await worker.stop()
    await worker.check()


async def test_http_requests_are_counted_by_route_template_never_by_customer() -> None:
    reader = FakeViewReader()
    reader.fold("c-secret-42", [])
    app = create_http_app(reader)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://p") as client:
        await client.get("/v1/customers/c-secret-42")
        await client.get("/v1/customers/c-nobody-43/timeline")
        await client.get("/no/such/route")
        exposition = (await client.get("/metrics")).text
    assert 'rapport_http_requests_total{route="/v1/customers/{customer_id}",status="200"} 1.0' in exposition
    assert 'rapport_http_requests_total{route="/v1/customers/{customer_id}/timeline",status="404"} 1.0' in exposition
    assert 'route="unmatched",status="404"' in exposition
    assert "c-secret-42" not in exposition and "c-nobody-43" not in exposition
    for series in ("rapport_projection_batches_total", "rapport_projection_events_applied_total",
                   "rapport_projection_duplicates_skipped_total", "rapport_projection_batch_seconds",
                   "rapport_projection_freshness_seconds", "rapport_projection_lag"):  # fmt: skip
        assert f"# HELP {series}" in exposition or f"# TYPE {series.removesuffix('_total')}" in exposition, series


def test_a_worker_serves_its_metrics_on_a_port_of_its_own() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    metrics = ProjectionMetrics()
    metrics.batches.inc(3)
    server, thread = metrics.serve("127.0.0.1", port)
    try:
        assert "rapport_projection_batches_total 3.0" in httpx.get(f"http://127.0.0.1:{port}/metrics").text
    finally:
        server.shutdown()
        thread.join(timeout=5)
