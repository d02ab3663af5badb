"""`make run` as a newcomer meets it: `rapport dev --demo` without --api-key prints a key and keeps it, the README's
tour answers as it says, and the operator commands show the flow (`rapport tail`) and its figures (`rapport status`)."""

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest

from contracts import topics
from tests.e2e.conftest import RunningSystem, start_dev, touchpoint, wait_for, wait_for_version

pytestmark = pytest.mark.e2e
ANA, ZOE, ACCOUNT = "c-ana-alvarez", "c-zoe-park", "acct-hollis-plastics"
TEAM = {"c-dana-hollis-eng": "technical", "c-raj-hollis-buy": "purchasing", "c-helen-hollis-mgr": "decision_maker"}
DEMO_EVENTS = {ANA: 10, ZOE: 6, "c-dana-hollis-eng": 4, "c-raj-hollis-buy": 5, "c-helen-hollis-mgr": 3}


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """`make run`: the demo, and the key `rapport dev` made itself (no --api-key)."""
    running = start_dev(tmp_path_factory.mktemp("demo") / "data", demo=True, own_key=True)
    for customer, events in DEMO_EVENTS.items():
        wait_for_version(running, customer, events)
    yield running
    running.stop()
    assert running.process.returncode == 0, running.log.read_text()


def rapport(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "services.cli.main", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "200"})  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_ana_has_a_treatment_guide_and_is_at_risk_for_an_open_complaint(system: RunningSystem) -> None:
    view = system.get(f"/v1/customers/{ANA}").json()

    preferences = {name: entry["value"] for name, entry in view["preferences"].items()}
    assert preferences == {"name_to_use": "Ana", "channel": "email", "contact_hours": "18:00-20:00",
                           "timezone": "Europe/Madrid", "tone": "casual", "language": "es"}  # fmt: skip
    channel = view["preferences"]["channel"]  # she said email; she was seen on the app, which stands behind it
    assert (channel["source"], channel["fallback"]["value"], channel["fallback"]["source"]) == (
        "stated", "app", "observed",
    )  # fmt: skip
    decisions = {scope: decision["granted"] for scope, decision in view["consent"]["decisions"].items()}
    assert decisions == {"marketing/email": True, "service": True}
    experience = view["experience"]
    assert (experience["touchpoints"], experience["positive"], experience["negative"]) == (5, 3, 2)  # card too
    assert experience["at_risk"] is True
    reasons = {reason["code"]: reason for reason in experience["risk_reasons"]}
    assert reasons["unresolved_issue"]["event_ids"] == [f"demo-{ANA}-9"]
    assert [issue["case_id"] for issue in experience["open_issues"]] == ["case-5521"]

    page = system.get(f"/v1/customers/{ANA}/timeline", params={"feeling": "negative", "limit": 3}).json()
    assert [(item["channel"], item["kind"]) for item in page["items"]] == [("phone", "complaint"), ("app", "delivery")]
    assert page["next_cursor"] is None


def test_zoe_may_hear_from_us_on_the_app_only(system: RunningSystem) -> None:
    def contact(channel: str) -> dict:
        return system.get(f"/v1/customers/{ZOE}/contact", params={"purpose": "marketing", "channel": channel}).json()

    email, app = contact("email"), contact("app")
    assert email["allowed"] is False
    assert app["allowed"] is True
    assert (app["how"]["channel"], app["how"]["tone"], app["how"]["frequency"]) == ("app", "casual", "weekly")


def test_the_buying_team_has_its_roles_and_a_rolled_up_health(system: RunningSystem) -> None:
    wanted = sum(DEMO_EVENTS[member] for member in TEAM)
    account = wait_for(lambda: (a := system.get(f"/v1/accounts/{ACCOUNT}").json()).get("version") == wanted and a,
                       30, "the account's roll-up")  # fmt: skip

    members = {member["customer_id"]: member for member in account["members"]}
    assert {customer: member["role"] for customer, member in members.items()} == TEAM
    assert members["c-dana-hollis-eng"]["preferences"]["tone"]["value"] == "formal"
    assert members["c-raj-hollis-buy"]["preferences"]["channel"]["value"] == "email"
    scores = {customer: member["score"] for customer, member in members.items()}
    assert all(score != 0 for score in scores.values())
    weighted = sum(score * (2 if TEAM[customer] == "decision_maker" else 1) for customer, score in scores.items())
    assert account["health"]["score"] == pytest.approx(weighted / 4, abs=0.1)  # the plant manager counts twice
    assert [issue["case_id"] for issue in account["health"]["open_issues"]] == ["case-7730"]


def test_the_printed_key_is_kept_in_the_data_directory_and_opens_both_apis(system: RunningSystem) -> None:
    kept = system.data_dir / "dev-api-key"
    assert system.api_key.startswith("rk_")
    assert kept.read_text().strip() == system.api_key
    assert kept.stat().st_mode & 0o777 == 0o600
    assert f"kept in {kept}" in system.log.read_text()

    assert system.get(f"/v1/customers/{ANA}").status_code == 200
    assert httpx.get(f"{system.projection}/v1/customers/{ANA}", timeout=30).status_code == 401
    wrong = {"authorization": f"Bearer {system.api_key}x"}
    assert httpx.get(f"{system.projection}/v1/customers/{ANA}", headers=wrong, timeout=30).status_code == 401
    assert system.post("/v1/events", json=touchpoint(f"c-{uuid.uuid4().hex[:12]}")).status_code == 202


def test_tail_prints_a_recorded_touchpoint_and_its_view_one_readable_line_each(system: RunningSystem) -> None:
    who = f"c-{uuid.uuid4().hex[:12]}"
    event = touchpoint(who, channel="web", kind="purchase", sentiment=0.9, emotion="delighted")
    position = system.post("/v1/events", json=event).json()["position"]
    assert system.get(f"/v1/customers/{who}", params={"min_position": position}).json()["position"] == position

    events = rapport("tail", topics.EVENTS, "--bootstrap", system.bootstrap, "--idle-exit", "2")
    views = rapport("tail", topics.CUSTOMER_VIEWS, "--bootstrap", system.bootstrap, "--idle-exit", "2")

    [line] = [line for line in events.splitlines() if event["id"] in line]
    assert re.match(rf"\[\d@\d+\] {who}: cx\.touchpoint\.recorded\.v1 id={event['id']} @{position} data=", line)
    assert '"channel":"web"' in line and '"kind":"purchase"' in line and '"emotion":"delighted"' in line
    [line] = [line for line in views.splitlines() if f"] {who}: " in line]
    assert f"{who}: view v1 @{position} touchpoints=1 +1/-0 score=" in line


def status_figures(system: RunningSystem) -> dict[str, str]:
    """`rapport status` as label -> value, from its table's rows."""
    rows = (re.split(r"[│|]", line) for line in rapport("status", "--data-dir", str(system.data_dir)).splitlines())
    return {cells[1].strip(): cells[2].strip() for cells in rows if len(cells) == 4}


def numbers(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", text)]


def test_status_shows_how_many_events_are_stored_relayed_and_in_views(system: RunningSystem) -> None:
    before = status_figures(system)
    views_before = numbers(before["customer views"])[0]
    who = f"c-{uuid.uuid4().hex[:12]}"
    position = system.post("/v1/events", json=touchpoint(who)).json()["position"]
    system.get(f"/v1/customers/{who}", params={"min_position": position})

    def caught_up() -> dict[str, str] | None:
        figures = status_figures(system)
        return figures if figures["relayed to cx.events.v1"].endswith("(backlog 0)") else None

    after = wait_for(caught_up, 30, "status to show the relay caught up")
    assert numbers(after["events stored (highest position)"]) == [position]
    assert numbers(after["relayed to cx.events.v1"]) == [position, 0]
    assert numbers(after["customer views"]) == [views_before + 1, position]  # a new customer, a new view
    lags = {label: numbers(value)[0] for label, value in after.items() if label.startswith("projection lag")}
    assert len(lags) == 4 and set(lags.values()) == {0}, lags
    assert after["dead letters on cx.intake.dlq.v1"] == before["dead letters on cx.intake.dlq.v1"]


def test_a_second_run_prints_the_same_key_and_seeds_nothing_twice(system: RunningSystem) -> None:
    # Last in this module: it stops the module's system and starts another on the same data directory.
    system.stop()
    again = start_dev(system.data_dir, demo=True, own_key=True)
    try:
        assert again.api_key == system.api_key
        assert re.search(r"^demo +0 events stored, 28 already there", again.log.read_text(), re.MULTILINE)
        assert again.get(f"/v1/customers/{ANA}").json()["version"] == DEMO_EVENTS[ANA]
    finally:
        again.stop()
    assert again.process.returncode == 0, again.log.read_text()
