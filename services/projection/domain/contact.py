"""May we contact this person for a purpose on a channel, and how would they like it?

The rule, in order:
1. Do not contact (consent for purpose "any" withdrawn on all channels) refuses everything, service included.
2. Otherwise the most specific recorded decision decides: this purpose on this channel, else this purpose on
   all channels, else "any" purpose on this channel, else "any" purpose on all channels.
3. With no decision at all, purpose "service" (messages the customer's contract or open case needs) is
   allowed by default, and every other purpose (marketing, research, ...) is refused: no consent, no contact.
Every reason names the event that decided it. `how` carries the preferences in force at `now`.
"""

from datetime import datetime
from typing import Any

from services.projection.domain.preferences import current_preferences

ANY_PURPOSE = "any"  # contracts.people.ANY_PURPOSE; the domain does not import the pydantic models
SERVICE_PURPOSE = "service"
HOW = ("channel", "contact_hours", "timezone", "language", "tone", "name_to_use", "frequency", "avoid_topics",
       "accessibility")  # fmt: skip


def decide_contact(view: dict[str, Any], purpose: str, channel: str | None, now: datetime) -> dict[str, Any]:
    """A contracts.ContactAnswer document."""
    preferences = current_preferences(view.get("preferences") or {}, now)
    consent = view.get("consent") or {}
    decisions: dict[str, dict[str, Any]] = consent.get("decisions") or {}
    allowed, reason = _consent(consent.get("do_not_contact", False), decisions, purpose, channel)
    reasons = [reason, *_channel_notes(preferences, channel)]
    how = {name: preferences[name]["value"] for name in HOW if name in preferences}
    return {"allowed": allowed, "reasons": reasons, "how": how}


def _consent(
    do_not_contact: bool, decisions: dict[str, dict[str, Any]], purpose: str, channel: str | None
) -> tuple[bool, str]:
    if do_not_contact:
        decision = decisions[ANY_PURPOSE]
        return False, f"do not contact: consent for every purpose was withdrawn on all channels{_cite(decision)}"
    scopes = [(purpose, channel), (purpose, None), (ANY_PURPOSE, channel), (ANY_PURPOSE, None)]
    for scope_purpose, scope_channel in scopes:
        key = scope_purpose if scope_channel is None else f"{scope_purpose}/{scope_channel}"
        found = decisions.get(key)
        if found is not None:
            decision = found
            word = "granted" if decision["granted"] else "withdrawn"
            where = "on all channels" if scope_channel is None else f"on {scope_channel}"
            what = "every purpose" if scope_purpose == ANY_PURPOSE else scope_purpose
            return bool(decision["granted"]), f"consent for {what} {where} was {word}{_cite(decision)}"
    if purpose == SERVICE_PURPOSE:
        return True, "no consent recorded: service messages are allowed unless withdrawn"
    return False, f"no consent recorded for {purpose}: only service messages are allowed without consent"


def _cite(decision: dict[str, Any]) -> str:
    return f" on {decision['at'][:10]} (event {decision['event_id']})"


def _channel_notes(preferences: dict[str, dict[str, Any]], channel: str | None) -> list[str]:
    preferred = preferences.get("channel")
    if channel is None or preferred is None:
        return []
    source = f"{preferred['source']}, event {preferred['event_id']}"
    if preferred["value"] == channel:
        return [f"{channel} is their preferred channel ({source})"]
    return [f"{channel} is not their preferred channel: they prefer {preferred['value']} ({source})"]
