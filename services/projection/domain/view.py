"""Render a customer's state as the public CustomerView document (a plain dict: no validation cost)."""

from typing import Any

from services.projection.domain.events import iso
from services.projection.domain.scoring import score
from services.projection.domain.state import CustomerState


def _time(micros: int | None) -> str | None:
    return None if micros is None else iso(micros)


def render_view(state: CustomerState) -> dict[str, Any]:
    """The contracts.CustomerView document for `state`."""
    return {
        "customer_id": state.customer_id,
        "account_id": state.account_id,
        "version": state.version,
        "position": state.position,
        "updated_at": _time(state.updated_us),
        "preferences": {
            name: {"value": p.value, "source": "stated" if p.stated else "observed", "at": iso(p.at_us),
                   "event_id": p.event_id}
            for name, p in sorted(state.preferences.items())
        },
        "consent": {},
        "experience": {
            "touchpoints": state.touchpoints, "positive": state.positive, "negative": state.negative,
            "neutral": state.neutral, "by_channel": dict(sorted(state.by_channel.items())),
            "first_touch_at": _time(state.first_touch_us), "last_touch_at": _time(state.last_touch_us),
            "score": score(state.weighted_sentiment, state.weight_total),
            "at_risk": False, "risk_reasons": [],
        },
        "recent": [
            {"event_id": r.event_id, "time": iso(r.time_us), "channel": r.channel, "kind": r.kind,
             "sentiment": r.sentiment, "feeling": r.feeling}
            for r in state.recent
        ],
    }  # fmt: skip
