"""What the brief's templates show, in words: feelings, scores, dates, consent and preferences of a view."""

from datetime import datetime
from typing import Any

PREFERENCE_LABELS = {
    "name_to_use": "Name to use", "language": "Language", "timezone": "Time zone", "contact_hours": "Contact hours",
    "channel": "Preferred channel", "tone": "Tone", "frequency": "How often", "avoid_topics": "Topics to avoid",
    "accessibility": "Accessibility needs",
}  # fmt: skip
HEADER_PREFERENCES = ("language", "timezone", "contact_hours", "channel")
PERSONAL_SHOWN_APART = ("name_to_use", "avoid_topics", "accessibility")
FEELINGS = {"positive": "good", "negative": "bad", "neutral": "neutral"}


def words(value: Any) -> str:
    """A preference or vocabulary value as a person reads it: lists joined, underscores as spaces."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(words(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{words(k)}: {words(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("_", " ")


def when(moment: str | None) -> str:
    if not moment:
        return "unknown"
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        return moment
    return parsed.strftime("%Y-%m-%d %H:%M UTC") if parsed.utcoffset() is not None else parsed.isoformat()


def feeling(entry: dict[str, Any]) -> str:
    """A touchpoint's feeling in words; never left to a colour alone."""
    return FEELINGS.get(entry.get("feeling") or "", "neutral")


def score_words(score: float | None) -> str:
    if score is None:
        return "no experiences yet"
    if score >= 20:
        return "mostly good"
    if score <= -20:
        return "mostly bad"
    return "mixed"


def label(name: str) -> str:
    return PREFERENCE_LABELS.get(name, words(name).capitalize())


def preference_value(view: dict[str, Any], name: str) -> Any:
    entry = (view.get("preferences") or {}).get(name)
    return entry.get("value") if isinstance(entry, dict) else None


def consent_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    """Each consent decision: purpose, channel (none: every channel), granted or not, when and by which event."""
    decisions = ((view.get("consent") or {}).get("decisions") or {}).values()
    return sorted(decisions, key=lambda d: (d.get("purpose") or "", d.get("channel") or ""))


def other_preferences(view: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Preferences with where each came from, the personal ones excepted (they have a section of their own)."""
    held = (view.get("preferences") or {}).items()
    return sorted((name, entry) for name, entry in held if name not in PERSONAL_SHOWN_APART)
