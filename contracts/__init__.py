"""Rapport's shared language: event and view models, topic names, JSON Schema. Imports only pydantic.

The names below are loaded on first use (PEP 562): `contracts.event_types`, `contracts.topics` and
`contracts.canonical` are plain constants that every process needs, and importing them must not build the
pydantic models as well (a quarter of a second, paid again by every rebuild shard's process).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contracts.catalog import EVENT_TYPES, EventParseError, parse_event
    from contracts.envelope import CloudEvent
    from contracts.events import PreferenceStated, PreferenceStatedEvent, TouchpointRecorded, TouchpointRecordedEvent
    from contracts.views import CustomerView, TimelineEntry, TimelinePage
    from contracts.vocabulary import Channel, Outcome, PreferenceSource, RatingScale, TouchpointKind

_HOMES = {
    "EVENT_TYPES": "contracts.catalog",
    "EventParseError": "contracts.catalog",
    "parse_event": "contracts.catalog",
    "CloudEvent": "contracts.envelope",
    "PreferenceStated": "contracts.events",
    "PreferenceStatedEvent": "contracts.events",
    "TouchpointRecorded": "contracts.events",
    "TouchpointRecordedEvent": "contracts.events",
    "CustomerView": "contracts.views",
    "TimelineEntry": "contracts.views",
    "TimelinePage": "contracts.views",
    "Channel": "contracts.vocabulary",
    "Outcome": "contracts.vocabulary",
    "PreferenceSource": "contracts.vocabulary",
    "RatingScale": "contracts.vocabulary",
    "TouchpointKind": "contracts.vocabulary",
}

__all__ = [  # literal, so type checkers see the exports
    "EVENT_TYPES",
    "Channel",
    "CloudEvent",
    "CustomerView",
    "EventParseError",
    "Outcome",
    "PreferenceSource",
    "PreferenceStated",
    "PreferenceStatedEvent",
    "RatingScale",
    "TimelineEntry",
    "TimelinePage",
    "TouchpointKind",
    "TouchpointRecorded",
    "TouchpointRecordedEvent",
    "parse_event",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'contracts' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # once: later lookups do not come back here
    return value
