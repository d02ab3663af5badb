"""Which preference shows: stated beats observed, the latest of each wins, and expiry is judged when read.

The fold keeps, per name, the latest stated and the latest observed candidate. The view shows the stated one
with the observed one as its `fallback` (or the observed one alone). The preferred channel is also observed from
behaviour: the channel the customer used most (ties: the most recently used, then the event id), unless an
observed `channel` preference was recorded explicitly. The fold has no clock, so readers drop expired entries:
`current_preferences` does that for a given moment, falling back to the other candidate.
"""

from datetime import datetime
from typing import Any

from services.projection.domain.events import iso
from services.projection.domain.state import CustomerState, PreferenceState

OBSERVED_CHANNEL = "channel"


def render_preferences(state: CustomerState) -> dict[str, dict[str, Any]]:
    names = set(state.stated) | set(state.observed)
    derived = _most_used_channel(state) if OBSERVED_CHANNEL not in state.observed else None
    if derived is not None:
        names.add(OBSERVED_CHANNEL)
    rendered: dict[str, dict[str, Any]] = {}
    for name in sorted(names):
        observed = state.observed.get(name) or (derived if name == OBSERVED_CHANNEL else None)
        stated = state.stated.get(name)
        primary, fallback = (stated, observed) if stated is not None else (observed, None)
        if primary is not None:
            rendered[name] = {**_entry(primary), "fallback": None if fallback is None else _entry(fallback)}
    return rendered


def _most_used_channel(state: CustomerState) -> PreferenceState | None:
    if not state.channel_use:
        return None
    channel, use = max(state.channel_use.items(), key=lambda item: (item[1].count, item[1].last_us, item[1].event_id))
    return PreferenceState(channel, False, use.last_us, use.event_id)


def _entry(preference: PreferenceState) -> dict[str, Any]:
    return {
        "value": preference.value, "source": "stated" if preference.stated else "observed",
        "at": iso(preference.at_us), "event_id": preference.event_id,
        "expires_at": None if preference.expires_us is None else iso(preference.expires_us),
    }  # fmt: skip


def _expired(entry: dict[str, Any], now: datetime) -> bool:
    expires_at = entry.get("expires_at")
    return expires_at is not None and datetime.fromisoformat(expires_at) <= now


def current_preferences(preferences: dict[str, Any], now: datetime) -> dict[str, dict[str, Any]]:
    """The entries still in force at `now`: an expired one gives way to its fallback, or goes."""
    current: dict[str, dict[str, Any]] = {}
    for name, entry in preferences.items():
        if not _expired(entry, now):
            current[name] = entry
            continue
        fallback = entry.get("fallback")
        if fallback is not None and not _expired(fallback, now):
            current[name] = {**fallback, "fallback": None}
    return current
