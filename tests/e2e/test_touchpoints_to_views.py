"""A touchpoint sent over HTTP or Kafka comes out as a live view, over HTTP and on the view topic."""

import httpx
import orjson
import pytest

from contracts import topics
from tests.e2e.conftest import (
    RunningSystem,
    customer,
    latest_view,
    produce,
    read_topic,
    touchpoint,
    view_of,
    wait_for_version,
)

pytestmark = pytest.mark.e2e


def test_http_touchpoint_reaches_the_view_and_the_view_topic(system: RunningSystem) -> None:
    who = customer()
    answer = system.post("/v1/events", json=touchpoint(who, sentiment=0.9, channel="web"))
    assert answer.status_code == 202, answer.text
    view = wait_for_version(system, who, 1)
    assert view["experience"]["positive"] == 1
    assert view["experience"]["by_channel"] == {"web": 1}
    assert view["position"] == answer.json()["position"]

    records = read_topic(system.bootstrap, topics.CUSTOMER_VIEWS, lambda rs: latest_view(rs, who) is not None)
    assert latest_view(records, who)["version"] == 1


def test_kafka_touchpoint_from_an_independent_client_reaches_the_view(system: RunningSystem) -> None:
    who = customer()
    event = touchpoint(who, kind="complaint", sentiment=-0.8, outcome="unresolved")
    produce(system.bootstrap, topics.INTAKE, orjson.dumps(event), key=who.encode())
    view = wait_for_version(system, who, 1)
    assert view["experience"]["negative"] == 1
    assert view["recent"][0]["event_id"] == event["id"]


def test_the_same_event_twice_is_stored_once(system: RunningSystem) -> None:
    who = customer()
    event = touchpoint(who, sentiment=0.5)
    first = system.post("/v1/events", json=event).json()
    again = system.post("/v1/events", json=event).json()
    assert again["accepted"] == [] and again["duplicates"] == [event["id"]]
    assert again["position"] == first["position"]
    produce(system.bootstrap, topics.INTAKE, orjson.dumps(event), key=who.encode())
    marker = touchpoint(who)  # once the marker is applied, any duplicate before it would have been too
    system.post("/v1/events", json=marker)
    view = wait_for_version(system, who, 2)
    assert view["version"] == 2
    assert view["experience"]["touchpoints"] == 2


def test_a_bad_batch_is_refused_whole_with_each_error_located(system: RunningSystem) -> None:
    who = customer()
    good, bad = touchpoint(who), touchpoint(who, sentiment=7)
    bad["data"]["channel"] = "pigeon"
    answer = system.post(
        "/v1/events", content=orjson.dumps([good, bad]), headers={"content-type": "application/cloudevents-batch+json"}
    )
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert {(e["index"], e["path"]) for e in errors} == {(1, "data.sentiment"), (1, "data.channel")}
    assert view_of(system, who) is None  # all or nothing: the good one was not stored


def test_oversized_bodies_are_refused(system: RunningSystem) -> None:
    body = orjson.dumps([touchpoint(customer(), note="x" * 1900) for _ in range(600)])
    assert len(body) > 1024 * 1024
    answer = system.post("/v1/events", content=body, headers={"content-type": "application/cloudevents-batch+json"})
    assert answer.status_code == 413


def test_poison_on_the_intake_topic_is_dead_lettered_and_the_flow_goes_on(system: RunningSystem) -> None:
    who = customer()
    poison = [
        b"\xff\xfe not utf-8",
        b"{not json",
        orjson.dumps({**touchpoint(who), "type": "cx.nope.v1"}),
        orjson.dumps(touchpoint(who, sentiment=3)),
    ]
    for value in poison:
        produce(system.bootstrap, topics.INTAKE, value, key=who.encode(), headers=[("origin", b"pos-7")])
    produce(system.bootstrap, topics.INTAKE, orjson.dumps(touchpoint(who)), key=who.encode())
    view = wait_for_version(system, who, 1)
    assert view["version"] == 1

    def all_dead_lettered(records: list) -> bool:
        return sum(1 for r in records if r.key() == who.encode()) >= len(poison)

    records = [r for r in read_topic(system.bootstrap, topics.INTAKE_DLQ, all_dead_lettered) if r.key() == who.encode()]
    assert sorted(r.value() for r in records) == sorted(poison)
    for record in records:
        headers = {k: v for k, v in record.headers()}
        assert headers[topics.DLQ_TOPIC] == topics.INTAKE.encode()
        assert headers[topics.DLQ_REASON]
        assert int(headers[topics.DLQ_OFFSET]) >= 0
        assert headers["origin"] == b"pos-7"


def test_timeline_pages_newest_first(system: RunningSystem) -> None:
    who = customer()
    events = [touchpoint(who, time=f"2026-05-0{day}T12:00:00Z", kind="purchase") for day in range(1, 6)]
    system.post(
        "/v1/events", json=events, headers={"content-type": "application/cloudevents-batch+json"}
    ).raise_for_status()
    wait_for_version(system, who, 5)
    first = system.get(f"/v1/customers/{who}/timeline", params={"limit": 3}).json()
    second = system.get(f"/v1/customers/{who}/timeline", params={"limit": 3, "cursor": first["next_cursor"]}).json()
    times = [item["time"][:10] for item in first["items"] + second["items"]]
    assert times == ["2026-05-05", "2026-05-04", "2026-05-03", "2026-05-02", "2026-05-01"]
    assert second["next_cursor"] is None


def test_unknown_customers_are_404(system: RunningSystem) -> None:
    assert system.get(f"/v1/customers/{customer()}").status_code == 404


def test_both_services_refuse_callers_without_a_key(system: RunningSystem) -> None:
    who = customer()
    write = httpx.post(f"{system.experience}/v1/events", json=touchpoint(who), timeout=10)
    read = httpx.get(f"{system.projection}/v1/customers/{who}", timeout=10)
    assert write.status_code == 401 and read.status_code == 401
    assert write.headers["www-authenticate"].lower().startswith("bearer")


def test_metrics_show_the_flow_without_customer_ids(system: RunningSystem) -> None:
    who = customer()
    system.post("/v1/events", json=touchpoint(who)).raise_for_status()
    wait_for_version(system, who, 1)
    written = httpx.get(f"{system.experience}/metrics", timeout=10).text
    projected = httpx.get(f"{system.projection}/metrics", timeout=10).text
    assert "rapport_events_accepted_total" in written and "rapport_events_relayed_total" in written
    assert "rapport_projection_events_applied_total" in projected
    assert "rapport_projection_freshness_seconds_bucket" in projected
    assert who not in written + projected
