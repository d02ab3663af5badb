"""Why a customer is at risk, each reason naming the events behind it; computed from order-independent state.

- unresolved_issue: a complaint or support case still open (see issues.py).
- negative_run: the latest `negative_run` scored touchpoints (by event time) were all negative.
- falling_score: with at least `falling_min_scored` scored touchpoints, the short-memory score (half-life
  `falling_half_life_days`) is at least `falling_drop` points below the long-run score (half-life
  `half_life_days`), both relative to the latest scored touchpoint and both negativity-weighted.
"""

from typing import Any

from services.projection.domain.events import iso
from services.projection.domain.issues import OpenIssue
from services.projection.domain.rules import FoldRules
from services.projection.domain.state import CustomerState


def risk_reasons(state: CustomerState, rules: FoldRules, issues: list[OpenIssue]) -> list[dict[str, Any]]:
    reasons: list[dict[str, Any]] = []
    if issues:
        latest = issues[0]
        what = f"{latest[2].replace('_', ' ')}" + (f" (case {latest[3]})" if latest[3] else "")
        message = f"{len(issues)} open issue(s); the latest is a {what} from {iso(latest[0])[:10]}"
        reasons.append(_reason("unresolved_issue", message, [issue[1] for issue in issues]))
    run = state.scored_recent[: rules.negative_run]
    if len(run) == rules.negative_run and all(entry.feeling == "negative" for entry in run):
        message = f"the latest {len(run)} experiences with a feeling were all negative"
        reasons.append(_reason("negative_run", message, [entry.event_id for entry in run]))
    drop = falling_drop(state, rules)
    if drop is not None and drop >= rules.falling_drop:
        recent = [entry.event_id for entry in state.scored_recent if entry.feeling == "negative"]
        message = f"recent experiences score {drop:.0f} points below the long-run score"
        reasons.append(_reason("falling_score", message, recent or [e.event_id for e in state.scored_recent]))
    return reasons


def falling_drop(state: CustomerState, rules: FoldRules) -> float | None:
    """Long-run score minus short-memory score, unrounded; None when there is too little to tell."""
    if state.scored < rules.falling_min_scored or state.weight_total <= 0 or state.short_weight_total <= 0:
        return None
    long_run = state.weighted_sentiment / state.weight_total
    short = state.short_weighted_sentiment / state.short_weight_total
    return 100.0 * (long_run - short)


def _reason(code: str, message: str, event_ids: list[str]) -> dict[str, Any]:
    return {"code": code, "message": message, "event_ids": event_ids}
