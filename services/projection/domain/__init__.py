"""The pure fold from a customer's stored events to their view: no I/O, no clock, no settings."""

from services.projection.domain.events import StoredEvent, UndecodableEventError, event_from_record
from services.projection.domain.fold import FoldResult, FoldRules, fold
from services.projection.domain.state import CustomerState
from services.projection.domain.view import render_view

__all__ = [
    "CustomerState",
    "FoldResult",
    "FoldRules",
    "StoredEvent",
    "UndecodableEventError",
    "event_from_record",
    "fold",
    "render_view",
]
