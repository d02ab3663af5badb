"""What a reader sees at a given moment: the parts of a view that depend on the clock, filled in at read time."""

from datetime import datetime
from typing import Any

from services.projection.domain.preferences import current_preferences

_SECONDS_PER_DAY = 86_400.0


def view_as_of(view: dict[str, Any], now: datetime) -> dict[str, Any]:
    """`view` with expired preferences dropped (or fallen back) and loyalty.recency_days measured to `now`."""
    read = {**view, "preferences": current_preferences(view.get("preferences") or {}, now)}
    loyalty = view.get("loyalty")
    if loyalty and loyalty.get("last_seen_at"):
        elapsed = (now - datetime.fromisoformat(loyalty["last_seen_at"])).total_seconds() / _SECONDS_PER_DAY
        read["loyalty"] = {**loyalty, "recency_days": round(max(0.0, elapsed), 2)}
    return read


def account_as_of(view: dict[str, Any], now: datetime) -> dict[str, Any]:
    members = [{**m, "preferences": current_preferences(m.get("preferences") or {}, now)} for m in view["members"]]
    return {**view, "members": members}
