"""The frontline's questions answered by the running system: who is this, how do they like it, may we call?"""

import subprocess
import sys
import threading
import uuid

import httpx
import orjson
import pytest

from contracts import topics
from tests.e2e.conftest import (
    BATCH,
    RunningSystem,
    customer,
    event,
    latest_view,
    produce,
    read_topic,
    touchpoint,
    wait_for,
    wait_for_version,
)

pytestmark = pytest.mark.e2e


def rapport(system: RunningSystem, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args, "--data-dir", str(system.data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_touchpoint_named_by_an_unknown_card_is_dead_lettered_and_replayed_once_the_card_is_linked(
    system: RunningSystem,
) -> None:
    who, card = customer(), {"kind": "loyalty_card", "value": f"LC-{uuid.uuid4().hex[:8]}"}
    till = event(
        "cx.touchpoint.recorded.v1", {"identity": card, "channel": "store", "kind": "purchase", "sentiment": 0.4}
    )
    produce(system.bootstrap, topics.INTAKE, orjson.dumps(till), key=b"till-4")

    def dead_lettered(records: list) -> bool:
        return any(r.value() == orjson.dumps(till) for r in records)

    records = read_topic(system.bootstrap, topics.INTAKE_DLQ, dead_lettered)
    letter = next(r for r in records if r.value() == orjson.dumps(till))
    assert dict(letter.headers())[topics.DLQ_REASON] == b"unknown_identity"
    assert card["value"].encode() not in dict(letter.headers())[topics.DLQ_DETAIL]

    link = event("cx.identity.linked.v1", {"customer_id": who, "identity": card})
    assert system.post("/v1/events", json=link).status_code == 202
    output = rapport(system, "dlq", "replay", "--reason", "unknown_identity")
    assert "replayed" in output
    view = wait_for_version(system, who, 2)  # the link, then the replayed purchase
    assert view["experience"]["touchpoints"] == 1
    assert view["recent"][0]["event_id"] == till["id"]


def test_the_contact_question_follows_consent_and_preferences(system: RunningSystem) -> None:
    who = customer()
    events = [
        event("cx.preference.stated.v1", {"customer_id": who, "preferences": {"channel": "app", "tone": "casual"}}),
        event("cx.consent.changed.v1", {"customer_id": who, "purpose": "marketing", "channel": "app", "granted": True}),
        event(
            "cx.consent.changed.v1", {"customer_id": who, "purpose": "marketing", "channel": "email", "granted": False}
        ),
    ]
    position = system.post("/v1/events", json=events, headers=BATCH).json()["position"]
    app = system.get(
        f"/v1/customers/{who}/contact", params={"purpose": "marketing", "channel": "app", "min_position": position}
    )
    email = system.get(f"/v1/customers/{who}/contact", params={"purpose": "marketing", "channel": "email"})
    assert app.json()["allowed"] is True and app.json()["how"]["tone"] == "casual"
    assert email.json()["allowed"] is False


def test_may_we_text_her_sms_consent_is_its_own_channel(system: RunningSystem) -> None:
    who = customer()
    events = [
        event("cx.preference.stated.v1", {"customer_id": who, "preferences": {"channel": "sms"}}),
        event("cx.consent.changed.v1", {"customer_id": who, "purpose": "service", "channel": "sms", "granted": True}),
        event(
            "cx.consent.changed.v1", {"customer_id": who, "purpose": "service", "channel": "phone", "granted": False}
        ),
        event(
            "cx.touchpoint.recorded.v1",
            {"customer_id": who, "channel": "sms", "kind": "support_case", "outcome": "resolved", "sentiment": 0.5},
        ),
    ]
    answer = system.post("/v1/events", json=events, headers=BATCH)
    assert answer.status_code == 202, answer.text
    view = wait_for_version(system, who, len(events))
    sms = system.get(f"/v1/customers/{who}/contact", params={"purpose": "service", "channel": "sms"})
    phone = system.get(f"/v1/customers/{who}/contact", params={"purpose": "service", "channel": "phone"})
    assert sms.json()["allowed"] is True and phone.json()["allowed"] is False
    assert view["experience"]["by_channel"] == {"sms": 1} and view["preferences"]["channel"]["value"] == "sms"


def test_a_buying_team_rolls_up_into_its_account(system: RunningSystem) -> None:
    account, engineer, buyer = f"acct-{uuid.uuid4().hex[:8]}", customer(), customer()
    events = [
        event(
            "cx.account.membership.changed.v1",
            {"customer_id": engineer, "account_id": account, "role": "technical", "member": True},
        ),
        event(
            "cx.account.membership.changed.v1",
            {"customer_id": buyer, "account_id": account, "role": "purchasing", "member": True},
        ),
        touchpoint(engineer, channel="phone", kind="support_case", sentiment=-0.6, outcome="unresolved"),
        touchpoint(buyer, channel="field_sales", kind="contract_renewal", sentiment=0.5),
    ]
    position = system.post("/v1/events", json=events, headers=BATCH).json()["position"]

    def rolled_up() -> dict | None:
        answer = system.get(f"/v1/accounts/{account}", params={"min_position": position})
        body = answer.json() if answer.status_code == 200 else None
        return body if body and body["position"] >= position else None

    view = wait_for(rolled_up, 30, "the account view")
    assert {(m["customer_id"], m["role"]) for m in view["members"]} == {(engineer, "technical"), (buyer, "purchasing")}
    assert [issue["customer_id"] for issue in view["health"]["open_issues"]] == [engineer]


def test_an_erased_customer_is_gone_from_views_and_topic_and_later_events_are_refused(system: RunningSystem) -> None:
    who = customer()
    system.post("/v1/events", json=touchpoint(who, note="Prefers the corner table; wife is pregnant."))
    wait_for_version(system, who, 1)
    answer = httpx.delete(f"{system.experience}/v1/customers/{who}", headers=system.auth, timeout=30)
    assert answer.status_code == 202, answer.text
    assert answer.json()["erasures"][0]["customer_id"] == who
    wait_for(lambda: system.get(f"/v1/customers/{who}").status_code == 404, 30, "the view to go")

    def tombstoned(records: list) -> bool:
        mine = [r for r in records if r.key() == who.encode()]
        return bool(mine) and mine[-1].value() is None

    records = read_topic(system.bootstrap, topics.CUSTOMER_VIEWS, tombstoned)
    assert latest_view(records, who) is None  # a new subscriber's latest value for the key is the tombstone
    later = system.post("/v1/events", json=touchpoint(who))
    assert later.status_code == 422
    assert later.json()["errors"][0]["path"] == "data.customer_id"


def test_the_live_stream_sends_each_change(system: RunningSystem) -> None:
    who = customer()
    system.post("/v1/events", json=touchpoint(who, sentiment=0.3))
    wait_for_version(system, who, 1)
    seen: list[str] = []
    opened = threading.Event()

    def listen() -> None:
        with httpx.stream(
            "GET", f"{system.projection}/v1/customers/{who}/stream", headers=system.auth, timeout=30
        ) as response:
            opened.set()
            for line in response.iter_lines():
                if line.startswith("data:"):
                    seen.append(line)
                if len(seen) >= 2:
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert opened.wait(10)
    system.post("/v1/events", json=touchpoint(who, sentiment=-0.8, kind="complaint"))
    listener.join(30)
    versions = [orjson.loads(line[5:])["version"] for line in seen]
    assert versions == [1, 2]


def test_status_shows_where_every_part_stands(system: RunningSystem) -> None:
    output = rapport(system, "status")
    for line in (
        "events stored",
        "relayed to cx.events.v1",
        "customer views",
        "projection lag, partition 0",
        "dead letters on cx.intake.dlq.v1",
    ):
        assert line in output
