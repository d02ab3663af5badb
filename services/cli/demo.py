"""A few customers a newcomer can look at straight away: a family that loves family night, and a buying team.

Event ids are fixed, so seeding twice stores nothing twice (the second run reports duplicates).
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from rich.console import Console

console = Console(highlight=False, soft_wrap=True)
START = datetime(2026, 9, 1, 18, 30, tzinfo=UTC)


def touchpoint(n: int, customer: str, days: float, **data: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"demo-{customer}-{n}",
        "source": "rapport/demo",
        "type": "cx.touchpoint.recorded.v1",
        "time": (START + timedelta(days=days)).isoformat(),
        "data": {"customer_id": customer, **data},
    }


def preferences(n: int, customer: str, days: float, source: str = "stated", **prefs: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"demo-{customer}-{n}",
        "source": "rapport/demo",
        "type": "cx.preference.stated.v1",
        "time": (START + timedelta(days=days)).isoformat(),
        "data": {"customer_id": customer, "preferences": prefs, "source": source},
    }


def family_restaurant() -> list[dict[str, Any]]:
    """B2C: the Alvarez family comes for discounted family nights; one wrong order nearly undid it all."""
    c = "c-ana-alvarez"
    return [
        preferences(1, c, 0, name_to_use="Ana", channel="email", contact_hours="18:00-20:00", tone="casual"),
        touchpoint(2, c, 1, channel="store", kind="visit", sentiment=0.8, emotion="delighted",
                   note="Family night with the kids; asked about the birthday menu."),
        touchpoint(3, c, 8, channel="store", kind="purchase", sentiment=0.6, value={"amount": 64.5, "currency": "EUR"}),
        touchpoint(4, c, 15, channel="store", kind="visit", rating={"scale": "stars", "value": 5}),
        touchpoint(5, c, 22, channel="app", kind="delivery", sentiment=-0.7, emotion="annoyed",
                   outcome="unresolved", note="Order arrived wrong: no gluten-free pasta for her son."),
        touchpoint(6, c, 22.1, channel="phone", kind="complaint", sentiment=-0.9, emotion="let_down",
                   outcome="unresolved", handled_by="shift-lead-marco"),
        preferences(7, c, 23, source="observed", channel="app"),
    ]


def buying_team() -> list[dict[str, Any]]:
    """B2B: at Hollis Plastics a plant engineer and a purchasing agent choose a new moulding press together."""
    engineer, buyer, account = "c-dana-hollis-eng", "c-raj-hollis-buy", "acct-hollis-plastics"
    return [
        preferences(1, engineer, 0, name_to_use="Dana", channel="field_sales", tone="formal",
                    avoid_topics=["discount pressure"]),
        touchpoint(2, engineer, 2, account_id=account, channel="field_sales", kind="meeting", sentiment=0.7,
                   emotion="interested", handled_by="am-lucia"),
        touchpoint(3, engineer, 20, account_id=account, channel="phone", kind="support_case", sentiment=-0.4,
                   outcome="unresolved", emotion="frustrated"),
        preferences(1, buyer, 0, name_to_use="Mr. Patel", channel="email", frequency="monthly", tone="formal"),
        touchpoint(2, buyer, 5, account_id=account, channel="email", kind="contract_renewal", sentiment=0.3,
                   value={"amount": 185000, "currency": "USD"}),
        touchpoint(3, buyer, 12, account_id=account, channel="field_sales", kind="meeting",
                   rating={"scale": "nps", "value": 9}),
    ]


def seed_demo(experience_url: str, api_key: str) -> None:
    events = family_restaurant() + buying_team()
    response = httpx.post(
        f"{experience_url}/v1/events",
        json=events,
        headers={"content-type": "application/cloudevents-batch+json", "authorization": f"Bearer {api_key}"},
        timeout=30,
    )
    response.raise_for_status()
    body = response.json()
    console.print(f"demo        {len(body['accepted'])} events stored, {len(body['duplicates'])} already there: "
                  "customers c-ana-alvarez, c-dana-hollis-eng, c-raj-hollis-buy")
