"""The catalogue of preferences Rapport understands, each with its value type; anything else is a free-form extra."""

import re
from typing import Any
from zoneinfo import available_timezones

from contracts.vocabulary import Channel

_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # BCP 47, e.g. en, pt-BR, de-CH
TONES = ("formal", "casual")
FREQUENCIES = ("never", "as_needed", "daily", "weekly", "monthly", "quarterly", "yearly")
_MAX_TEXT, _MAX_ITEMS = 256, 32


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
        raise ValueError(f"must be non-blank text of at most {_MAX_TEXT} characters")
    return value


def _choice(options: tuple[str, ...]) -> Any:
    def check(value: Any) -> str:
        if value not in options:
            raise ValueError(f"must be one of: {', '.join(options)}")
        return str(value)

    return check


def _channel(value: Any) -> str:
    return _choice(tuple(c.value for c in Channel))(value)  # type: ignore[no-any-return]


def _hours(value: Any) -> str:
    if not isinstance(value, str) or not _HOURS.match(value):
        raise ValueError("must be local hours as 'HH:MM-HH:MM', e.g. '18:00-20:00'")
    return value


def _timezone(value: Any) -> str:
    if not isinstance(value, str) or value not in _zones():
        raise ValueError("must be an IANA time zone, e.g. 'Europe/Madrid'")
    return value


def _language(value: Any) -> str:
    if not isinstance(value, str) or not _LANGUAGE.match(value):
        raise ValueError("must be a BCP 47 language tag, e.g. 'en' or 'pt-BR'")
    return value


def _texts(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > _MAX_ITEMS:
        raise ValueError(f"must be a list of at most {_MAX_ITEMS} short texts")
    return [_text(item) for item in value]


_ZONES: frozenset[str] = frozenset()


def _zones() -> frozenset[str]:
    global _ZONES
    if not _ZONES:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES


# name -> (what it means, how its value is checked)
CATALOGUE: dict[str, tuple[str, Any]] = {
    "channel": ("the channel they prefer to be contacted on", _channel),
    "contact_hours": ("local hours they welcome contact, 'HH:MM-HH:MM'", _hours),
    "timezone": ("their IANA time zone, for contact_hours", _timezone),
    "language": ("BCP 47 language tag", _language),
    "tone": ("formal or casual", _choice(TONES)),
    "frequency": ("how often they want to hear from us", _choice(FREQUENCIES)),
    "name_to_use": ("how they like to be addressed", _text),
    "avoid_topics": ("topics not to raise with them", _texts),
    "accessibility": ("needs to meet, e.g. large_print, step_free_access", _texts),
}


def check_preference(name: str, value: Any) -> Any:
    """The value, checked against the catalogue; names outside it are free-form extras of any JSON scalar/list."""
    if name in CATALOGUE:
        return CATALOGUE[name][1](value)
    return value
