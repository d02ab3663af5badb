"""Events about who a customer is and may be contacted as: consent, linked identities, accounts, erasure."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from contracts.envelope import AccountId, CustomerId, StrictModel
from contracts.vocabulary import AccountRole, Channel, IdentityKind

Purpose = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
ANY_PURPOSE = "any"  # consent with this purpose speaks for every purpose: withdrawn, it means do not contact


class IdentityRef(StrictModel):
    """An identifier another system knows the customer by; stored only as a keyed hash."""

    kind: IdentityKind
    value: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class ConsentChanged(StrictModel):
    """The customer granted or withdrew consent for a purpose, on one channel or (no channel) on all."""

    customer_id: CustomerId
    purpose: Purpose = Field(description="marketing, service, research, …; 'any' for every purpose")
    channel: Channel | None = Field(default=None, description="absent: every channel")
    granted: bool


class IdentityLinked(StrictModel):
    customer_id: CustomerId
    identity: IdentityRef


class IdentityUnlinked(StrictModel):
    customer_id: CustomerId
    identity: IdentityRef


class AccountMembershipChanged(StrictModel):
    """A person joined or left a B2B account's buying team, in a role."""

    customer_id: CustomerId
    account_id: AccountId
    role: AccountRole
    member: bool


class CustomerErased(StrictModel):
    """The customer exercised the right to be forgotten: personal data goes, non-personal facts stay."""

    customer_id: CustomerId
    reason: Literal["customer_request", "retention_policy", "other"] = "customer_request"
