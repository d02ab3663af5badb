"""The closed vocabularies of the touchpoint world; each has an `other` escape so new cases need no new version."""

from enum import StrEnum


class Channel(StrEnum):
    STORE = "store"
    WEB = "web"
    APP = "app"
    EMAIL = "email"
    PHONE = "phone"
    SMS = "sms"  # consent to text is governed apart from consent to call in many places
    CHAT = "chat"
    SOCIAL = "social"
    REVIEW_SITE = "review_site"
    FIELD_SALES = "field_sales"
    EVENT = "event"
    PARTNER = "partner"
    OTHER = "other"


class TouchpointKind(StrEnum):
    PURCHASE = "purchase"
    VISIT = "visit"
    SUPPORT_CASE = "support_case"
    COMPLAINT = "complaint"
    REVIEW = "review"
    SURVEY_RESPONSE = "survey_response"
    DELIVERY = "delivery"
    RETURN = "return"
    LOYALTY_REWARD = "loyalty_reward"
    MEETING = "meeting"
    CONTRACT_RENEWAL = "contract_renewal"
    MARKETING_MESSAGE = "marketing_message"
    OTHER = "other"


class Outcome(StrEnum):
    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"
    PENDING = "pending"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"
    OTHER = "other"


class RatingScale(StrEnum):
    NPS = "nps"  # 0..10
    CSAT = "csat"  # 1..5
    STARS = "stars"  # 1..5


class PreferenceSource(StrEnum):
    STATED = "stated"  # the customer told us; always beats observed
    OBSERVED = "observed"  # we inferred it from behaviour


class Feeling(StrEnum):
    """How a touchpoint felt, from its sentiment (or its rating when no sentiment was given)."""

    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class IdentityKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CRM = "crm"
    LOYALTY_CARD = "loyalty_card"
    OTHER = "other"


class AccountRole(StrEnum):
    """Roles in a B2B buying team: like a couple choosing a family car, each decides a part."""

    DECISION_MAKER = "decision_maker"
    PURCHASING = "purchasing"
    TECHNICAL = "technical"
    USER = "user"
    FINANCE = "finance"
    LEGAL = "legal"
    OTHER = "other"
