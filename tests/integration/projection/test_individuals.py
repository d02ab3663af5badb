"""Issue 3 on real PostgreSQL and the real broker: treatment guide, consent, feelings, accounts, erasure."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import structlog
from sqlalchemy import text

from services.projection.adapters.documents import decode, decode_state
from services.projection.bootstrap import create_app
from tests.integration.projection.conftest import Projection
from tests.unit.projection.factories import record

pytestmark = pytest.mark.integration


def new_id(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Positions:
    """Hands out increasing global positions, as the event store does."""

    def __init__(self) -> None:
        self.last = 0

    def __call__(self) -> int:
        self.last += 1
        return self.last


async def api(projection: Projection) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(projection.settings, run_consumer=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://projection") as client:
            yield client


@pytest.fixture
async def client(projection: Projection) -> AsyncIterator[httpx.AsyncClient]:
    async for value in api(projection):
        yield value


async def settle(client: httpx.AsyncClient, customer: str, position: int) -> dict[str, Any]:
    # The first group join takes longer than a min_position wait: poll until the view is there.
    for _ in range(150):
        response = await client.get(f"/v1/customers/{customer}", params={"min_position": position})
        if response.status_code == 200 and response.json()["position"] >= position:
            return dict(response.json())
    raise AssertionError(f"{customer} never reached position {position}")


async def test_treatment_guide_consent_and_feelings(projection: Projection, client: httpx.AsyncClient) -> None:
    p = Positions()
    prefers, consents, complains, in_order, late = (new_id() for _ in range(5))
    await projection.produce([
        record(prefers, p(), "preference", minutes=0, preferences={"channel": "email"}, source="stated"),
        record(prefers, p(), "preference", minutes=60, preferences={"channel": "phone"}, source="observed"),
        record(consents, p(), "consent", minutes=0, purpose="marketing", channel="email", granted=True),
        record(consents, p(), "consent", minutes=10, purpose="marketing", channel="email", granted=False),
        *[record(complains, p(), minutes=m, kind="visit", sentiment=0.6) for m in (1, 2, 3)],
        record(complains, p(), minutes=4, kind="complaint", sentiment=-0.6, outcome="unresolved"),
    ])  # fmt: skip
    channel = (await settle(client, prefers, 2))["preferences"]["channel"]
    assert (channel["value"], channel["source"]) == ("email", "stated")

    await settle(client, consents, 4)
    ask = {"purpose": "marketing", "channel": "email"}
    assert (await client.get(f"/v1/customers/{consents}/contact", params=ask)).json()["allowed"] is False
    regrant = record(consents, p(), "consent", minutes=20, purpose="marketing", channel="email", granted=True)
    await projection.produce([regrant])
    answer = (await client.get(f"/v1/customers/{consents}/contact", params={**ask, "min_position": p.last})).json()
    assert answer["allowed"] is True and regrant["id"] in answer["reasons"][0]

    experience = (await settle(client, complains, 8))["experience"]
    assert experience["score"] < 0 and experience["at_risk"]  # bias 4: 3 * 0.6 < 4 * 0.6

    # The same four touchpoints, once in time order and once with the oldest arriving last (highest position).
    minutes_and_feelings = [(10, 0.8), (20, -0.5), (30, 0.4), (0, -0.9)]
    await projection.produce([record(in_order, p(), minutes=m, sentiment=s) for m, s in sorted(minutes_and_feelings)])
    await projection.produce([record(late, p(), minutes=m, sentiment=s) for m, s in minutes_and_feelings])
    expected = (await settle(client, in_order, p.last - 4))["experience"]
    arrived_late = (await settle(client, late, p.last))["experience"]
    assert arrived_late["score"] == expected["score"]
    assert arrived_late["recent_score"] == expected["recent_score"]


async def test_a_contact_moving_between_accounts(projection: Projection, client: httpx.AsyncClient) -> None:
    p = Positions()
    boss, engineer, buyer = new_id(), new_id(), new_id()
    first, second = new_id("a"), new_id("a")
    await projection.produce([
        record(boss, p(), "membership", account_id=first, role="decision_maker", member=True),
        record(engineer, p(), "membership", account_id=first, role="technical", member=True),
        record(buyer, p(), "membership", account_id=second, role="purchasing", member=True),
        record(boss, p(), minutes=5, sentiment=-0.8, channel="field_sales", kind="meeting"),
        record(engineer, p(), minutes=5, sentiment=0.8),
        record(buyer, p(), minutes=5, sentiment=0.4, kind="contract_renewal"),
    ])  # fmt: skip
    await settle(client, buyer, p.last)
    view = (await client.get(f"/v1/accounts/{first}", params={"min_position": p.last - 1})).json()
    assert {m["customer_id"]: m["role"] for m in view["members"]} == {boss: "decision_maker", engineer: "technical"}
    assert view["health"]["score"] == round((2 * -80 + 80) / 3, 1)  # the decision maker weighs double
    assert view["contract_touchpoints"][0]["customer_id"] == boss

    move = [
        record(engineer, p(), "membership", minutes=10, account_id=first, role="technical", member=False),
        record(engineer, p(), "membership", minutes=10, account_id=second, role="technical", member=True),
    ]
    await projection.produce(move)
    await settle(client, engineer, p.last)
    left = (await client.get(f"/v1/accounts/{first}")).json()
    joined = (await client.get(f"/v1/accounts/{second}")).json()
    assert [m["customer_id"] for m in left["members"]] == [boss]
    assert left["health"]["score"] == -80.0 and left["health"]["at_risk"]
    assert sorted(m["customer_id"] for m in joined["members"]) == sorted([buyer, engineer])
    assert (await client.get(f"/v1/customers/{engineer}")).json()["accounts"] == {second: "technical"}
    assert left["position"] == p.last - 1 and joined["position"] == p.last
    published = await projection.published_views(projection.settings.account_views_topic)
    async with projection.engine.connect() as connection:
        stored = dict((await connection.execute(text("SELECT account_id, view FROM account_views"))).all())
    assert published[first] == stored[first] and published[second] == stored[second]
    assert published[first]["members"][0]["customer_id"] == boss
    assert (await client.get(f"/v1/accounts/{new_id('a')}")).status_code == 404


async def test_an_erased_customer_leaves_no_personal_data(projection: Projection, client: httpx.AsyncClient) -> None:
    p = Positions()
    erased, kept, account = new_id(), new_id(), new_id("a")
    secret = f"secret-note-{uuid.uuid4().hex}"
    history = [
        record(erased, p(), "membership", account_id=account, role="decision_maker", member=True),
        record(erased, p(), "preference", preferences={"name_to_use": secret}),
        record(erased, p(), minutes=1, sentiment=-0.7, note=secret, handled_by=secret),
        record(kept, p(), "membership", account_id=account, role="user", member=True),
        record(kept, p(), minutes=2, sentiment=0.5),
    ]
    with structlog.testing.capture_logs() as logs:
        await projection.produce(history)
        await settle(client, kept, p.last)
        await settle(client, erased, 3)
        await projection.produce([record(erased, p(), "erased")])
        for _ in range(100):
            if (await client.get(f"/v1/customers/{erased}")).status_code == 404:
                break
        # A replay after a broker loss, and an event delivered late: neither brings anything back.
        await projection.produce([*history, record(erased, p(), minutes=9, sentiment=0.1, note=secret)])
        await settle(client, kept, 5)
        await asyncio.sleep(1.0)
    assert secret not in repr(logs)
    assert (await client.get(f"/v1/customers/{erased}")).status_code == 404
    assert (await client.get(f"/v1/customers/{erased}/timeline")).status_code == 404
    team = (await client.get(f"/v1/accounts/{account}")).json()
    assert [m["customer_id"] for m in team["members"]] == [kept]
    async with projection.engine.connect() as connection:
        tables = await connection.execute(text(
            "SELECT (SELECT count(*) FROM customer_views WHERE customer_id = :c) AS views, "
            "(SELECT count(*) FROM timeline_entries WHERE customer_id = :c) AS timeline, "
            "(SELECT count(*) FROM account_views WHERE view::text LIKE :s) AS accounts, "
            "(SELECT position FROM erased_views WHERE customer_id = :c) AS erased_at"
        ), {"c": erased, "s": f"%{secret}%"})  # fmt: skip
        row = tables.one()
        documents = (await connection.execute(text("SELECT view, fold_state FROM customer_views"))).all()
    stored = [orjson.dumps([decode(view), decode_state(state).to_json()]).decode() for view, state in documents]
    anywhere = sum(secret in document for document in stored)
    assert (row.views, row.timeline, anywhere, row.accounts, row.erased_at) == (0, 0, 0, 0, 6)
    latest = await latest_views_as_another_team_would(projection.bootstrap, projection.settings.views_topic)
    assert latest[erased] is None  # a tombstone: erased
    assert latest[kept] is not None and latest[kept]["position"] == 5
    assert secret not in repr(latest)
    accounts = await projection.published_views(projection.settings.account_views_topic)
    assert secret not in repr(accounts[account]) and erased not in repr(accounts[account])


async def latest_views_as_another_team_would(bootstrap: str, topic: str) -> dict[str, Any]:
    """The README's recipe: an independent client reads the compacted topic from the beginning to its end and
    keeps the last value per key; a null value (tombstone) means the customer was erased."""

    def read() -> dict[str, Any]:
        from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": new_id("other-team"),
                             "enable.auto.commit": False})  # fmt: skip
        try:
            partitions = list(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
            ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
            consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
            latest: dict[str, Any] = {}
            done = {p for p, end in ends.items() if end == 0}
            while len(done) < len(partitions):
                message = consumer.poll(1.0)
                if message is None or message.error():
                    continue
                value = message.value()
                latest[message.key().decode()] = None if value is None else orjson.loads(value)
                if message.offset() + 1 >= ends[message.partition()]:
                    done.add(message.partition())
            return latest
        finally:
            consumer.close()

    return await asyncio.wait_for(asyncio.to_thread(read), 30)
