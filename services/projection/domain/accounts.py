"""Roll a B2B account's buying team up into its account view: members, health, open issues, contract touches.

Health is the weighted mean of the scores of members with at least one scored touchpoint, a decision maker
weighing `decision_maker_weight` (default 2) and everyone else 1. The account is at risk when a decision maker is
at risk, when at least half of the team is at risk, or when health is below `at_risk_below` (default -20).
Contract-related touchpoints are renewals and meetings with field sales, of current members, naming this account
or no account. Position is the highest position among the events that shaped the view (current members' events,
anyone's membership changes for this account); version is the sum of current members' versions plus one per
former member. Both follow from the events alone, so the same events give the same account view.
"""

from dataclasses import dataclass, field
from typing import Any

from services.projection.domain.events import iso
from services.projection.domain.state import RecentState

DECISION_MAKER = "decision_maker"


@dataclass(frozen=True, slots=True)
class AccountRules:
    decision_maker_weight: float = 2.0
    at_risk_below: float = -20.0
    contract_limit: int = 5


@dataclass(slots=True)
class MemberRecord:
    """One row of account_members joined to that customer's view (absent once erased)."""

    customer_id: str
    role: str
    member: bool
    membership_position: int
    version: int = 0
    position: int = 0
    updated_at: str | None = None
    experience: dict[str, Any] = field(default_factory=dict)
    preferences: dict[str, Any] = field(default_factory=dict)
    scored: int = 0
    contracts: list[RecentState] = field(default_factory=list)  # from the member's fold state


def roll_up(account_id: str, records: list[MemberRecord], rules: AccountRules) -> dict[str, Any]:
    """The contracts.AccountView document."""
    current = sorted((r for r in records if r.member), key=lambda r: r.customer_id)
    members = [
        {"customer_id": r.customer_id, "role": r.role, "score": r.experience.get("score", 0.0),
         "at_risk": bool(r.experience.get("at_risk")), "preferences": r.preferences}
        for r in current
    ]  # fmt: skip
    score = _health_score(current, rules)
    issues = sorted(
        (issue for r in current for issue in r.experience.get("open_issues", [])),
        key=lambda issue: (issue["time"], issue["event_id"]), reverse=True,
    )  # fmt: skip
    reasons = _risk(current, score, rules)
    positions = [r.membership_position for r in records] + [r.position for r in current]
    updated = [r.updated_at for r in current if r.updated_at]
    return {
        "account_id": account_id,
        "version": sum(r.version for r in current) + sum(1 for r in records if not r.member),
        "position": max(positions, default=0),
        "updated_at": max(updated, default=None),
        "members": members,
        "health": {"score": score, "at_risk": bool(reasons), "open_issues": issues, "risk_reasons": reasons},
        "contract_touchpoints": _contract_touchpoints(account_id, current, rules.contract_limit),
    }


def _health_score(current: list[MemberRecord], rules: AccountRules) -> float:
    weighted = total = 0.0
    for r in current:
        if r.scored <= 0:
            continue  # a contact we never heard a feeling from says nothing about the account's health
        weight = rules.decision_maker_weight if r.role == DECISION_MAKER else 1.0
        weighted += weight * float(r.experience.get("score", 0.0))
        total += weight
    return round(weighted / total, 1) if total else 0.0


def _risk(current: list[MemberRecord], score: float, rules: AccountRules) -> list[dict[str, Any]]:
    reasons: list[dict[str, Any]] = []
    at_risk = [r for r in current if r.experience.get("at_risk")]
    deciders = [r for r in at_risk if r.role == DECISION_MAKER]
    if deciders:
        ids = [e for r in deciders for reason in r.experience.get("risk_reasons", []) for e in reason["event_ids"]]
        message = f"{len(deciders)} decision maker(s) at risk: " + ", ".join(r.customer_id for r in deciders)
        reasons.append({"code": "decision_maker_at_risk", "message": message, "event_ids": ids})
    if current and 2 * len(at_risk) >= len(current):
        message = f"{len(at_risk)} of {len(current)} contacts are at risk"
        reasons.append({"code": "team_at_risk", "message": message, "event_ids": []})
    if score < rules.at_risk_below:
        message = f"account health {score} is below {rules.at_risk_below}"
        reasons.append({"code": "low_health", "message": message, "event_ids": []})
    return reasons


def _contract_touchpoints(account_id: str, current: list[MemberRecord], limit: int) -> list[dict[str, Any]]:
    touches = [
        (t.time_us, t.position, r.customer_id, t)
        for r in current
        for t in r.contracts
        if t.account_id in (None, account_id)
    ]
    touches.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [
        {"event_id": t.event_id, "time": t.time or iso(t.time_us), "channel": t.channel, "kind": t.kind,
         "sentiment": t.sentiment, "feeling": t.feeling, "emotion": t.emotion, "outcome": t.outcome,
         "customer_id": customer_id}
        for _, _, customer_id, t in touches[:limit]
    ]  # fmt: skip
