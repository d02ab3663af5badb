"""The pure fold from a customer's stored events to their view: no I/O, no clock, no settings."""

from contracts.event_types import CUSTOMER_ERASED
from services.projection.domain.accounts import AccountRules, MemberRecord, roll_up
from services.projection.domain.contact import decide_contact
from services.projection.domain.events import StoredEvent, UndecodableEventError, event_from_record
from services.projection.domain.fold import FoldResult, fold
from services.projection.domain.reading import account_as_of, view_as_of
from services.projection.domain.rules import FoldRules
from services.projection.domain.state import CustomerState
from services.projection.domain.view import render_view

__all__ = [
    "CUSTOMER_ERASED",
    "AccountRules",
    "CustomerState",
    "FoldResult",
    "FoldRules",
    "MemberRecord",
    "StoredEvent",
    "UndecodableEventError",
    "account_as_of",
    "decide_contact",
    "event_from_record",
    "fold",
    "render_view",
    "roll_up",
    "view_as_of",
]
