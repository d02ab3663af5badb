"""The type string of every Rapport event, in one module that the models, the catalogue, both services, the CLI and
the tests take them from."""

from typing import Final, Literal

# What each event model accepts as its `type`. A Literal cannot be spelled with a constant, so each string is
# written twice in this module: once here and once as its constant below, where mypy checks that the two agree.
TouchpointRecordedType = Literal["cx.touchpoint.recorded.v1"]
PreferenceStatedType = Literal["cx.preference.stated.v1"]
ConsentChangedType = Literal["cx.consent.changed.v1"]
IdentityLinkedType = Literal["cx.identity.linked.v1"]
IdentityUnlinkedType = Literal["cx.identity.unlinked.v1"]
AccountMembershipChangedType = Literal["cx.account.membership.changed.v1"]
CustomerErasedType = Literal["cx.customer.erased.v1"]

TOUCHPOINT_RECORDED: Final[TouchpointRecordedType] = "cx.touchpoint.recorded.v1"
PREFERENCE_STATED: Final[PreferenceStatedType] = "cx.preference.stated.v1"
CONSENT_CHANGED: Final[ConsentChangedType] = "cx.consent.changed.v1"
IDENTITY_LINKED: Final[IdentityLinkedType] = "cx.identity.linked.v1"
IDENTITY_UNLINKED: Final[IdentityUnlinkedType] = "cx.identity.unlinked.v1"
ACCOUNT_MEMBERSHIP_CHANGED: Final[AccountMembershipChangedType] = "cx.account.membership.changed.v1"
CUSTOMER_ERASED: Final[CustomerErasedType] = "cx.customer.erased.v1"

# Every type, in the order the catalogue (contracts/catalog.py) lists them.
ALL_TYPES: Final[tuple[str, ...]] = (
    TOUCHPOINT_RECORDED,
    PREFERENCE_STATED,
    CONSENT_CHANGED,
    IDENTITY_LINKED,
    IDENTITY_UNLINKED,
    ACCOUNT_MEMBERSHIP_CHANGED,
    CUSTOMER_ERASED,
)
