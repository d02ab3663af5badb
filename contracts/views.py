"""The views other teams read: on the view topics and from the projection service's HTTP API."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts.events import Rating
from contracts.vocabulary import Feeling, Outcome, PreferenceSource


class ViewModel(BaseModel):
    """Views may gain fields over time (never rename): readers should ignore what they do not know."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class PreferenceEntry(ViewModel):
    value: Any
    source: PreferenceSource
    at: datetime = Field(description="When the preference was stated or observed.")
    event_id: str = Field(description="The event it came from.")


class ExperienceSummary(ViewModel):
    touchpoints: int = 0
    positive: int = 0
    negative: int = 0
    neutral: int = 0
    by_channel: dict[str, int] = Field(default_factory=dict)
    first_touch_at: datetime | None = None
    last_touch_at: datetime | None = None
    score: float = Field(default=0.0, ge=-100, le=100, description="Negativity-weighted, decaying; -100..100.")
    at_risk: bool = False
    risk_reasons: list[Any] = Field(default_factory=list)


class RecentTouchpoint(ViewModel):
    event_id: str
    time: datetime
    channel: str
    kind: str
    sentiment: float | None = None
    feeling: Feeling = Feeling.NEUTRAL


class CustomerView(ViewModel):
    """Everything known about how one customer likes to be treated and how their experiences felt."""

    customer_id: str
    account_id: str | None = None
    version: int = Field(description="Events applied to this view.")
    position: int = Field(description="Global position of the last applied event.")
    updated_at: datetime | None = Field(default=None, description="Time of the last applied event.")
    preferences: dict[str, PreferenceEntry] = Field(default_factory=dict)
    consent: dict[str, Any] = Field(default_factory=dict)
    experience: ExperienceSummary = Field(default_factory=ExperienceSummary)
    recent: list[RecentTouchpoint] = Field(default_factory=list, description="Newest first, bounded.")


class TimelineEntry(ViewModel):
    """One touchpoint in a customer's full history."""

    event_id: str
    position: int
    time: datetime
    channel: str
    kind: str
    sentiment: float | None = None
    feeling: Feeling = Feeling.NEUTRAL
    emotion: str | None = None
    outcome: Outcome | None = None
    rating: Rating | None = None
    handled_by: str | None = None
    note: str | None = None


class TimelinePage(ViewModel):
    items: list[TimelineEntry]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next, older page; null at the end.")
