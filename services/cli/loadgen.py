"""Realistic touchpoints for many customers, for the benchmark: mostly good days, some bad ones, a few stated wishes."""

import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.event_types import PREFERENCE_STATED, TOUCHPOINT_RECORDED

CHANNELS = ["store", "web", "app", "email", "phone", "chat", "social", "review_site", "field_sales"]
KINDS = ["purchase", "visit", "support_case", "complaint", "review", "survey_response", "delivery", "return"]
EMOTIONS = ["delighted", "relieved", "content", "indifferent", "confused", "annoyed", "let_down"]
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class TouchpointLoad:
    """Generates events and remembers how many each customer got, so the reader knows what 'visible' means."""

    def __init__(self, customers: int, prefix: str, seed: int = 7) -> None:
        self.random = random.Random(seed)
        self.customers = [f"{prefix}-{n:06d}" for n in range(customers)]
        self.sent: Counter[str] = Counter()
        self.run = uuid.uuid4().hex[:8]

    def next_event(self) -> tuple[dict[str, Any], str, int]:
        """An event, its customer, and the view version at which it becomes visible."""
        r = self.random
        customer = r.choice(self.customers)
        self.sent[customer] += 1
        n = self.sent[customer]
        when = (EPOCH + timedelta(minutes=r.randrange(0, 500_000))).isoformat()
        event: dict[str, Any] = {
            "specversion": "1.0",
            "id": f"bench-{self.run}-{customer}-{n}",
            "source": "rapport/bench",
            "time": when,
            "subject": customer,
        }
        if r.random() < 0.05:
            event["type"] = PREFERENCE_STATED
            event["data"] = {
                "customer_id": customer,
                "preferences": {"channel": r.choice(CHANNELS[:6]), "tone": r.choice(["formal", "casual"])},
            }
        else:
            event["type"] = TOUCHPOINT_RECORDED
            event["data"] = self._touchpoint(customer)
        return event, customer, n

    def _touchpoint(self, customer: str) -> dict[str, Any]:
        r = self.random
        data: dict[str, Any] = {"customer_id": customer, "channel": r.choice(CHANNELS), "kind": r.choice(KINDS)}
        roll = r.random()
        if roll < 0.6:
            data["sentiment"] = round(max(-1.0, min(1.0, r.gauss(0.35, 0.45))), 2)
            data["emotion"] = r.choice(EMOTIONS)
        elif roll < 0.8:
            data["rating"] = {"scale": "nps", "value": r.randrange(0, 11)}
        if data["kind"] in ("support_case", "complaint"):
            data["outcome"] = r.choice(["resolved", "unresolved", "pending"])
        if data["kind"] == "purchase":
            data["value"] = {"amount": round(r.uniform(5, 400), 2), "currency": "EUR"}
        return data
