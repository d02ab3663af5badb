"""Customers a newcomer can look at straight away, drawn from the stories Rapport grew from.

- B2C: the Alvarez family loves the restaurant's discounted family nights; one wrong delivery and a complaint
  nobody has closed yet put them at risk, although most of their visits were lovely.
- B2C: Zoe saw a purse on social media and had to have it by Monday; she wants to hear from us on the app only.
- B2B: at Hollis Plastics a plant engineer and a purchasing agent choose a new moulding press together, like a
  couple choosing a family car, with the plant manager deciding; each likes to be treated differently.

Event ids are fixed, so seeding twice stores nothing twice (the second run reports duplicates).
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from rich.console import Console

from contracts.event_types import (
    ACCOUNT_MEMBERSHIP_CHANGED,
    CONSENT_CHANGED,
    IDENTITY_LINKED,
    PREFERENCE_STATED,
    TOUCHPOINT_RECORDED,
)

console = Console(highlight=False, soft_wrap=True)
START = datetime(2026, 9, 1, 18, 30, tzinfo=UTC)
ACCOUNT = "acct-hollis-plastics"


def event(event_type: str, customer: str, n: int, days: float, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"demo-{customer}-{n}",
        "source": "rapport/demo",
        "type": event_type,
        "time": (START + timedelta(days=days)).isoformat(),
        "data": data,
    }


def touchpoint(n: int, customer: str, days: float, **data: Any) -> dict[str, Any]:
    return event(TOUCHPOINT_RECORDED, customer, n, days, {"customer_id": customer, **data})


def preferences(n: int, customer: str, days: float, source: str = "stated", **prefs: Any) -> dict[str, Any]:
    data = {"customer_id": customer, "preferences": prefs, "source": source}
    return event(PREFERENCE_STATED, customer, n, days, data)


def consent(
    n: int, customer: str, days: float, purpose: str, granted: bool, channel: str | None = None
) -> dict[str, Any]:
    data = {"customer_id": customer, "purpose": purpose, "granted": granted, "channel": channel}
    return event(CONSENT_CHANGED, customer, n, days, {k: v for k, v in data.items() if v is not None})


def member(n: int, customer: str, days: float, role: str) -> dict[str, Any]:
    data = {"customer_id": customer, "account_id": ACCOUNT, "role": role, "member": True}
    return event(ACCOUNT_MEMBERSHIP_CHANGED, customer, n, days, data)


def family_restaurant() -> list[dict[str, Any]]:
    c = "c-ana-alvarez"
    card = {"kind": "loyalty_card", "value": "LC-20417"}
    return [
        preferences(
            1,
            c,
            0,
            name_to_use="Ana",
            channel="email",
            contact_hours="18:00-20:00",
            timezone="Europe/Madrid",
            tone="casual",
            language="es",
        ),
        consent(2, c, 0, "marketing", True, "email"),
        consent(3, c, 0, "service", True),
        event(IDENTITY_LINKED, c, 4, 0, {"customer_id": c, "identity": card}),
        touchpoint(
            5,
            c,
            1,
            channel="store",
            kind="visit",
            sentiment=0.8,
            emotion="delighted",
            note="Family night with the kids; asked about the birthday menu.",
        ),
        # The till knows her only by her loyalty card: intake resolves it to her.
        event(
            TOUCHPOINT_RECORDED,
            c,
            6,
            8,
            {
                "identity": card,
                "channel": "store",
                "kind": "purchase",
                "sentiment": 0.6,
                "value": {"amount": 64.5, "currency": "EUR"},
            },
        ),
        touchpoint(7, c, 15, channel="store", kind="visit", rating={"scale": "stars", "value": 5}),
        touchpoint(
            8,
            c,
            22,
            channel="app",
            kind="delivery",
            sentiment=-0.7,
            emotion="annoyed",
            note="Order arrived wrong: no gluten-free pasta for her son.",
        ),
        touchpoint(
            9,
            c,
            22.1,
            channel="phone",
            kind="complaint",
            sentiment=-0.9,
            emotion="let_down",
            outcome="unresolved",
            handled_by="shift-lead-marco",
            case_id="case-5521",
            attributes={"order_number": "ORD-88213"},
        ),
        preferences(10, c, 23, source="observed", channel="app"),
    ]


def impulse_buyer() -> list[dict[str, Any]]:
    c = "c-zoe-park"
    return [
        touchpoint(1, c, 3, channel="social", kind="visit", sentiment=0.5, emotion="curious"),
        touchpoint(
            2,
            c,
            3.2,
            channel="app",
            kind="purchase",
            sentiment=0.9,
            emotion="delighted",
            value={"amount": 189.0, "currency": "USD"},
        ),
        preferences(3, c, 3.3, channel="app", tone="casual", frequency="weekly"),
        consent(4, c, 3.3, "marketing", True, "app"),
        consent(5, c, 3.3, "marketing", False, "email"),
        touchpoint(6, c, 6, channel="app", kind="delivery", sentiment=0.7, emotion="relieved"),
    ]


def buying_team() -> list[dict[str, Any]]:
    engineer, buyer, manager = "c-dana-hollis-eng", "c-raj-hollis-buy", "c-helen-hollis-mgr"
    return [
        member(1, engineer, 0, "technical"),
        preferences(
            2,
            engineer,
            0,
            name_to_use="Dana",
            channel="field_sales",
            tone="formal",
            avoid_topics=["discount pressure"],
            accessibility=["large_print"],
        ),
        touchpoint(
            3,
            engineer,
            2,
            account_id=ACCOUNT,
            channel="field_sales",
            kind="meeting",
            sentiment=0.7,
            emotion="interested",
            handled_by="am-lucia",
        ),
        touchpoint(
            4,
            engineer,
            20,
            account_id=ACCOUNT,
            channel="phone",
            kind="support_case",
            sentiment=-0.4,
            outcome="unresolved",
            emotion="frustrated",
            case_id="case-7730",
        ),
        member(1, buyer, 0, "purchasing"),
        preferences(2, buyer, 0, name_to_use="Mr. Patel", channel="email", frequency="monthly", tone="formal"),
        consent(3, buyer, 0, "marketing", True, "email"),
        touchpoint(
            4,
            buyer,
            5,
            account_id=ACCOUNT,
            channel="email",
            kind="contract_renewal",
            sentiment=0.3,
            value={"amount": 185000, "currency": "USD"},
        ),
        touchpoint(
            5, buyer, 12, account_id=ACCOUNT, channel="field_sales", kind="meeting", rating={"scale": "nps", "value": 9}
        ),
        member(1, manager, 0, "decision_maker"),
        preferences(2, manager, 0, channel="phone", contact_hours="08:00-10:00", timezone="America/Chicago"),
        touchpoint(
            3,
            manager,
            14,
            account_id=ACCOUNT,
            channel="field_sales",
            kind="meeting",
            sentiment=0.5,
            emotion="reassured",
        ),
    ]


def seed_demo(experience_url: str, api_key: str) -> None:
    events = family_restaurant() + impulse_buyer() + buying_team()
    response = httpx.post(
        f"{experience_url}/v1/events",
        json=events,
        headers={"content-type": "application/cloudevents-batch+json", "authorization": f"Bearer {api_key}"},
        timeout=30,
    )
    if response.status_code != 202:
        raise RuntimeError(f"demo seeding refused ({response.status_code}): {response.text}")
    body = response.json()
    console.print(
        f"demo        {len(body['accepted'])} events stored, {len(body['duplicates'])} already there: "
        f"c-ana-alvarez, c-zoe-park, and the buying team of {ACCOUNT}"
    )
