"""Render a customer's state as the public CustomerView document (a plain dict: no validation cost)."""

from typing import Any

from services.projection.domain.events import iso
from services.projection.domain.issues import open_issues
from services.projection.domain.preferences import render_preferences
from services.projection.domain.risk import risk_reasons
from services.projection.domain.rules import FoldRules
from services.projection.domain.scoring import score
from services.projection.domain.state import CustomerState, RecentState
from services.projection.domain.touchpoints import US_PER_DAY

DAYS_PER_MONTH = 30.44


def _time(micros: int | None) -> str | None:
    return None if micros is None else iso(micros)


def render_view(state: CustomerState, rules: FoldRules | None = None) -> dict[str, Any]:
    """The contracts.CustomerView document for `state`."""
    if rules is None:
        rules = FoldRules()
    issues = open_issues(state)
    reasons = risk_reasons(state, rules, issues)
    return {
        "customer_id": state.customer_id,
        "account_id": state.account_id,
        "version": state.version,
        "position": state.position,
        "updated_at": _time(state.updated_us),
        "preferences": render_preferences(state),
        "consent": render_consent(state),
        "experience": {
            "touchpoints": state.touchpoints, "positive": state.positive, "negative": state.negative,
            "neutral": state.neutral, "by_channel": dict(sorted(state.by_channel.items())),
            "first_touch_at": _time(state.first_touch_us), "last_touch_at": _time(state.last_touch_us),
            "score": score(state.weighted_sentiment, state.weight_total),
            "recent_score": score(state.short_weighted_sentiment, state.short_weight_total),
            "at_risk": bool(reasons), "risk_reasons": reasons,
            "open_issues": [
                {"customer_id": state.customer_id, "event_id": event_id, "kind": kind, "time": time,
                 "case_id": case_id}
                for _, event_id, kind, case_id, time in issues
            ],
        },
        "recent": [render_touchpoint(r) for r in state.recent],
        "loyalty": render_loyalty(state),
        "accounts": {a: d.role for a, d in sorted(state.accounts.items()) if d.granted and d.role is not None},
    }  # fmt: skip


def render_touchpoint(entry: RecentState) -> dict[str, Any]:
    return {
        "event_id": entry.event_id, "time": entry.time or iso(entry.time_us), "channel": entry.channel,
        "kind": entry.kind, "sentiment": entry.sentiment, "feeling": entry.feeling, "emotion": entry.emotion,
        "outcome": entry.outcome,
    }  # fmt: skip


def render_consent(state: CustomerState) -> dict[str, Any]:
    decisions = {}
    for key, decision in sorted(state.consent.items()):
        purpose, _, channel = key.partition("/")
        decisions[key] = {
            "purpose": purpose, "channel": channel or None, "granted": decision.granted,
            "at": iso(decision.at_us), "event_id": decision.event_id,
        }  # fmt: skip
    everything = state.consent.get("any")
    return {"do_not_contact": everything is not None and not everything.granted, "decisions": decisions}


def render_loyalty(state: CustomerState) -> dict[str, Any]:
    """Frequency and return visits; recency depends on the reader's clock, so readers fill `recency_days`."""
    active_days = state.day_bits.bit_count()
    per_month = 0.0
    if state.first_touch_us is not None and state.last_touch_us is not None:
        months = max(1.0, (state.last_touch_us - state.first_touch_us) / US_PER_DAY / DAYS_PER_MONTH)
        per_month = round(state.touchpoints / months, 2)
    return {
        "last_seen_at": _time(state.last_touch_us), "recency_days": None, "active_days": active_days,
        "returns": max(0, active_days - 1), "touchpoints_per_month": per_month, "purchases": state.purchases,
    }  # fmt: skip
