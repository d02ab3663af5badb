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
    """The preference in force: stated beats observed, the latest of each wins. Readers drop it once
    `expires_at` has passed and use the first entry of its `fallback` chain that has not lapsed instead."""

    value: Any
    source: PreferenceSource
    at: datetime = Field(description="When the preference was stated or observed.")
    event_id: str = Field(description="The event it came from.")
    expires_at: datetime | None = Field(default=None, description="After this the preference lapses.")
    fallback: "PreferenceEntry | None" = Field(
        default=None,
        description=(
            "The candidate behind this one, with its own fallback: the chain holds the older stated candidates"
            " first, then the observed ones, each in force once those before it lapse."
        ),
    )


class ConsentDecision(ViewModel):
    """The latest word on one purpose (on one channel, or on all channels when `channel` is null)."""

    purpose: str
    channel: str | None = None
    granted: bool
    at: datetime
    event_id: str


class ConsentSummary(ViewModel):
    do_not_contact: bool = Field(default=False, description="Consent for purpose 'any' withdrawn on all channels.")
    decisions: dict[str, ConsentDecision] = Field(
        default_factory=dict, description="Keyed 'purpose' or 'purpose/channel'."
    )


class RiskReason(ViewModel):
    """Why a customer is at risk, with the events behind it so anyone can look.

    unresolved_issue: a complaint or support case not resolved or cancelled (one without an outcome included) with
    no later closing one of the same case_id (or, when neither has a case id, of the same kind).
    negative_run: the latest 3 touchpoints with a sentiment or rating were all negative.
    falling_score: with 4 or more such touchpoints, `recent_score` is 30 or more points below `score`.
    """

    code: str = Field(description="unresolved_issue, negative_run or falling_score")
    message: str
    event_ids: list[str] = Field(default_factory=list)


class Loyalty(ViewModel):
    """How the customer keeps coming back: recency is measured at read time from `last_seen_at`."""

    last_seen_at: datetime | None = None
    recency_days: float | None = Field(default=None, description="Days since last_seen_at, when read.")
    active_days: int = Field(default=0, description="Distinct days with a touchpoint.")
    returns: int = Field(default=0, description="Active days after the first: how often they came back.")
    touchpoints_per_month: float = 0.0
    purchases: int = 0


class OpenIssue(ViewModel):
    """A complaint or support case still unresolved, pending or escalated, with no later resolution."""

    customer_id: str
    event_id: str
    kind: str
    time: datetime
    case_id: str | None = Field(
        default=None, description="The issue's case_id (or the older attributes.case_id), when it had one."
    )


class ExperienceSummary(ViewModel):
    """How the customer's experiences felt. Without a sentiment, a rating stands in: NPS 0-10 as (v-5)/5,
    CSAT and stars 1-5 as (v-3)/2; above 0.2 is positive, below -0.2 negative, else (or neither) neutral."""

    touchpoints: int = 0
    positive: int = 0
    negative: int = 0
    neutral: int = 0
    by_channel: dict[str, int] = Field(default_factory=dict)
    first_touch_at: datetime | None = None
    last_touch_at: datetime | None = None
    score: float = Field(default=0.0, ge=-100, le=100, description="Negativity-weighted, decaying; -100..100.")
    recent_score: float = Field(
        default=0.0, ge=-100, le=100, description="The same score with a short memory (half-life 14 days)."
    )
    at_risk: bool = False
    risk_reasons: list[RiskReason] = Field(default_factory=list)
    open_issues: list[OpenIssue] = Field(default_factory=list, description="Newest first.")


class RecentTouchpoint(ViewModel):
    event_id: str
    time: datetime
    channel: str
    kind: str
    sentiment: float | None = None
    feeling: Feeling = Feeling.NEUTRAL
    emotion: str | None = None
    outcome: Outcome | None = None
    customer_id: str | None = Field(default=None, description="Whose touchpoint, in an account view.")


class CustomerView(ViewModel):
    """Everything known about how one customer likes to be treated and how their experiences felt."""

    customer_id: str
    account_id: str | None = None
    version: int = Field(description="Events applied to this view.")
    position: int = Field(description="Global position of the last applied event.")
    updated_at: datetime | None = Field(default=None, description="Time of the last applied event.")
    preferences: dict[str, PreferenceEntry] = Field(default_factory=dict)
    consent: ConsentSummary = Field(default_factory=ConsentSummary)
    experience: ExperienceSummary = Field(default_factory=ExperienceSummary)
    recent: list[RecentTouchpoint] = Field(default_factory=list, description="Newest first, bounded.")
    loyalty: Loyalty = Field(default_factory=Loyalty)
    accounts: dict[str, str] = Field(default_factory=dict, description="Account id to role, for B2B contacts.")


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
    case_id: str | None = Field(
        default=None, description="The case it belongs to (data.case_id, or the older attributes.case_id)."
    )
    handled_by: str | None = Field(default=None, description="Personal: shown only with pii:read.")
    note: str | None = Field(default=None, description="Personal: shown only with pii:read.")
    attributes: dict[str, str | int | float | bool] | None = Field(
        default=None, description="The touchpoint's attributes; personal: shown only with pii:read."
    )


class TimelinePage(ViewModel):
    items: list[TimelineEntry]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next, older page; null at the end.")


class AccountMember(ViewModel):
    customer_id: str
    role: str
    score: float = 0.0
    at_risk: bool = False
    preferences: dict[str, PreferenceEntry] = Field(default_factory=dict)


class AccountHealth(ViewModel):
    score: float = Field(default=0.0, ge=-100, le=100, description="Members' scores, decision makers weighted up.")
    at_risk: bool = False
    open_issues: list[OpenIssue] = Field(default_factory=list)
    risk_reasons: list[RiskReason] = Field(
        default_factory=list, description="decision_maker_at_risk, team_at_risk or low_health."
    )


class AccountView(ViewModel):
    """A B2B account's buying team: who decides, how each likes to be treated, and how the account feels."""

    account_id: str
    version: int
    position: int
    updated_at: datetime | None = None
    members: list[AccountMember] = Field(default_factory=list)
    health: AccountHealth = Field(default_factory=AccountHealth)
    contract_touchpoints: list[RecentTouchpoint] = Field(default_factory=list, description="Latest first.")


class ContactAnswer(ViewModel):
    """The frontline question: may we contact this person this way, and how would they like it?"""

    allowed: bool
    reasons: list[str]
    how: dict[str, Any] = Field(default_factory=dict, description="The preferences that apply, by name.")


class ErasureConfirmation(ViewModel):
    customer_id: str
    redacted_events: int = Field(description="Stored events whose personal fields were removed.")
    identities_removed: int
