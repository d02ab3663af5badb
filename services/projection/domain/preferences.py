"""Which preference shows: stated beats observed, the latest of each wins, and expiry is judged when read.

The fold keeps, per name, the stated and the observed candidates that may be in force at some moment: newest
first, each lasting longer than the one before it. The view shows the newest stated one; its `fallback` chain
holds the older stated ones, then the observed ones, each in force once those before it lapse. The preferred
channel is also observed from behaviour: the channel the customer used most (ties: the most recently used, then
the event id), behind any observed `channel` preference recorded explicitly, unless one of those never lapses.
The fold has no clock, so readers drop expired entries: `current_preferences` does that for a given moment,
falling back along the chain.
"""

from datetime import datetime
from typing import Any

from services.projection.domain.events import iso
from services.projection.domain.state import CustomerState, PreferenceState

OBSERVED_CHANNEL = "channel"


def render_preferences(state: CustomerState) -> dict[str, dict[str, Any]]:
    names = set(state.stated) | set(state.observed)
    derived = _derived_channel(state)
    if derived is not None:
        names.add(OBSERVED_CHANNEL)
    rendered: dict[str, dict[str, Any]] = {}
    for name in sorted(names):
        chain = [*state.stated.get(name, ()), *state.observed.get(name, ())]
        if derived is not None and name == OBSERVED_CHANNEL:
            chain.append(derived)
        entry = None
        for candidate in reversed(chain):
            entry = _entry(candidate, entry)
        if entry is not None:
            rendered[name] = entry
    return rendered


def _derived_channel(state: CustomerState) -> PreferenceState | None:
    """The channel used most, when no explicit observed channel that never lapses stands in front of it."""
    explicit = state.observed.get(OBSERVED_CHANNEL)
    if not state.channel_use or (explicit and explicit[-1].expires_us is None):
        return None
    # The max by (count, last use, event id), compared field by field: no key tuple per channel on every render.
    best_channel, best = "", None
    for channel, use in state.channel_use.items():
        if (
            best is None
            or use.count > best.count
            or (
                use.count == best.count
                and (use.last_us > best.last_us or (use.last_us == best.last_us and use.event_id > best.event_id))
            )
        ):
            best_channel, best = channel, use
    assert best is not None  # channel_use is not empty
    return PreferenceState(best_channel, False, best.last_us, best.event_id)


def _entry(preference: PreferenceState, fallback: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "value": preference.value, "source": "stated" if preference.stated else "observed",
        "at": iso(preference.at_us), "event_id": preference.event_id,
        "expires_at": None if preference.expires_us is None else iso(preference.expires_us), "fallback": fallback,
    }  # fmt: skip


def _expired(entry: dict[str, Any], now: datetime) -> bool:
    expires_at = entry.get("expires_at")
    return expires_at is not None and datetime.fromisoformat(expires_at) <= now


def current_preferences(preferences: dict[str, Any], now: datetime) -> dict[str, dict[str, Any]]:
    """The entries still in force at `now`: an expired one gives way to the first of its fallbacks that is not."""
    current: dict[str, dict[str, Any]] = {}
    for name, entry in preferences.items():
        in_force = _in_force(entry, now)
        if in_force is not None:
            current[name] = in_force
    return current


def _in_force(entry: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    """The first entry of the chain not expired at `now`, with its fallbacks pruned alike (the same entry when
    nothing in the chain has expired)."""
    while entry is not None and _expired(entry, now):
        entry = entry.get("fallback")
    if entry is None:
        return None
    fallback = entry.get("fallback")
    rest = None if fallback is None else _in_force(fallback, now)
    return entry if rest is fallback else {**entry, "fallback": rest}
