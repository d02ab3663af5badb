"""Rapport's shared language: event and view models, topic names, JSON Schema. Imports only pydantic."""

from contracts.catalog import EVENT_TYPES, EventParseError, parse_event
from contracts.envelope import CloudEvent
from contracts.events import (
    PreferenceStated,
    PreferenceStatedEvent,
    TouchpointRecorded,
    TouchpointRecordedEvent,
)
from contracts.views import CustomerView, TimelineEntry, TimelinePage
from contracts.vocabulary import Channel, Outcome, PreferenceSource, RatingScale, TouchpointKind

__all__ = [
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
