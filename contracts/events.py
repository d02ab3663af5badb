"""The data of each event type, version 1, and its typed envelope."""

from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints, field_validator, model_validator

from contracts.envelope import AccountId, CloudEvent, CustomerId, StrictModel
from contracts.event_types import (
    AccountMembershipChangedType,
    ConsentChangedType,
    CustomerErasedType,
    IdentityLinkedType,
    IdentityUnlinkedType,
    PreferenceStatedType,
    TouchpointRecordedType,
)
from contracts.people import (
    AccountMembershipChanged,
    ConsentChanged,
    CustomerErased,
    IdentityLinked,
    IdentityRef,
    IdentityUnlinked,
)
from contracts.preferences import check_preference
from contracts.vocabulary import Channel, Outcome, PreferenceSource, RatingScale, TouchpointKind

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
AttributeValue = Annotated[str, StringConstraints(max_length=256)] | int | float | bool
# A reference a case system gave, not free text: no spaces or @, so no name, sentence or email address fits.
CaseId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/#-]*$")]

# The inclusive range of each rating scale.
RATING_RANGES: dict[RatingScale, tuple[float, float]] = {
    RatingScale.NPS: (0, 10),
    RatingScale.CSAT: (1, 5),
    RatingScale.STARS: (1, 5),
}


class Rating(StrictModel):
    """A score the customer gave: NPS 0-10, CSAT 1-5 or stars 1-5.

    Without a sentiment, the views map it onto -1..1: NPS as (value - 5) / 5, CSAT and stars as (value - 3) / 2.
    """

    scale: RatingScale
    value: float

    @model_validator(mode="after")
    def _within_scale(self) -> "Rating":
        low, high = RATING_RANGES[self.scale]
        if not low <= self.value <= high:
            raise ValueError(f"a {self.scale.value} rating must be between {low:g} and {high:g}")
        return self


class Money(StrictModel):
    amount: float = Field(ge=-1e12, le=1e12)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class TouchpointRecorded(StrictModel):
    """Something happened between the customer and us, and (optionally) how it felt.

    The customer is named by `customer_id` or, instead, by an `identity` linked to them earlier (an email, a
    loyalty card, ...); the experience service resolves the identity on intake and stores the customer id only.
    """

    customer_id: CustomerId | None = None
    identity: IdentityRef | None = Field(default=None, description="Instead of customer_id: a linked identifier.")
    account_id: AccountId | None = None
    channel: Channel
    kind: TouchpointKind
    sentiment: float | None = Field(default=None, ge=-1, le=1, description="-1 (awful) .. 1 (delighted)")
    emotion: Label | None = Field(default=None, description="A short label such as 'relieved' or 'annoyed'.")
    rating: Rating | None = None
    outcome: Outcome | None = None
    value: Money | None = None
    handled_by: ShortText | None = Field(default=None, description="Who served the customer.")
    note: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        default=None, description="Free text; personal data."
    )
    case_id: CaseId | None = Field(
        default=None,
        description=(
            "The support case or complaint thread this belongs to: a closing event of the same case closes it. Not"
            " personal data: every reader sees it. Events before it existed carried it as attributes.case_id, which"
            " still counts when case_id is absent."
        ),
    )
    attributes: dict[Label, AttributeValue] | None = Field(
        default=None, max_length=32,
        description="Further facts such as an order number or a store; personal data, shown only with pii:read.",
    )  # fmt: skip

    @model_validator(mode="after")
    def _names_a_customer(self) -> "TouchpointRecorded":
        if self.customer_id is None and self.identity is None:
            raise ValueError("name the customer: customer_id, or identity {kind, value} linked earlier")
        return self


PreferenceName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
PreferenceValue = (
    Annotated[str, StringConstraints(max_length=256)]
    | int
    | float
    | bool
    | Annotated[list[Annotated[str, StringConstraints(max_length=128)]], Field(max_length=32)]
)


class PreferenceStated(StrictModel):
    """How the customer likes to be treated: told by them (stated) or seen in what they do (observed)."""

    customer_id: CustomerId
    preferences: dict[PreferenceName, PreferenceValue] = Field(
        min_length=1, max_length=32, description="Catalogue names are typed (contracts/preferences.py); others: extras."
    )
    source: PreferenceSource = PreferenceSource.STATED
    expires_at: AwareDatetime | None = Field(default=None, description="After this, these preferences lapse.")

    @field_validator("preferences")
    @classmethod
    def _catalogue_values(cls, value: dict[str, object]) -> dict[str, object]:
        for name, item in value.items():
            if isinstance(item, str) and not item.strip():
                raise ValueError(f"preference {name!r} is blank")
            try:
                check_preference(name, item)
            except ValueError as error:
                raise ValueError(f"preference {name!r} {error}") from None
        return value


class _CustomerEvent(CloudEvent):  # type: ignore[type-arg]
    @model_validator(mode="after")
    def _subject_names_the_customer(self) -> "_CustomerEvent":
        customer_id = self.data.customer_id
        if self.subject is not None and self.subject != customer_id:
            raise ValueError(f"subject {self.subject!r} differs from data.customer_id {customer_id!r}")
        return self

    @property
    def customer_id(self) -> str | None:
        """None only for a touchpoint that names its customer by a linked identity, until intake resolves it."""
        customer_id = self.data.customer_id
        return None if customer_id is None else str(customer_id)


class TouchpointRecordedEvent(_CustomerEvent):
    type: TouchpointRecordedType
    data: TouchpointRecorded


class PreferenceStatedEvent(_CustomerEvent):
    type: PreferenceStatedType
    data: PreferenceStated


class ConsentChangedEvent(_CustomerEvent):
    type: ConsentChangedType
    data: ConsentChanged


class IdentityLinkedEvent(_CustomerEvent):
    type: IdentityLinkedType
    data: IdentityLinked


class IdentityUnlinkedEvent(_CustomerEvent):
    type: IdentityUnlinkedType
    data: IdentityUnlinked


class AccountMembershipChangedEvent(_CustomerEvent):
    type: AccountMembershipChangedType
    data: AccountMembershipChanged


class CustomerErasedEvent(_CustomerEvent):
    type: CustomerErasedType
    data: CustomerErased
