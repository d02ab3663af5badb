"""What every IdentityDirectory must answer; run on the fake and on PostgreSQL.

Subclasses provide a `store` fixture (where events are appended) and a `directory` fixture reading the same data.
"""

from typing import Any

from contracts import parse_event
from services.experience.adapters.ports import EventStore, IdentityDirectory
from services.experience.handlers.append_events import append_events
from services.experience.handlers.record_events import to_new_event

from .events import email, erasure, identity_linked, identity_unlinked, new_id
from .fakes import IDENTITIES


async def record(store: EventStore, *documents: dict[str, Any]) -> None:
    await append_events(store, [to_new_event(parse_event(d), IDENTITIES) for d in documents])


class IdentityDirectoryContract:
    async def test_linked_identities_find_their_customer_until_unlinked_or_erased(
        self, store: EventStore, directory: IdentityDirectory
    ) -> None:
        ana, zoe = new_id("c"), new_id("c")
        ana_mail, zoe_mail = email("ana"), email("zoe")
        await record(store, identity_linked(ana, "email", ana_mail), identity_linked(zoe, "email", zoe_mail))

        assert await directory.customer_of(IDENTITIES.key_of("email", ana_mail.upper())) == ana  # normalised
        assert await directory.customer_of(IDENTITIES.key_of("phone", ana_mail)) is None  # the kind counts too

        await record(store, identity_unlinked(ana, "email", ana_mail), erasure(zoe))
        assert await directory.customer_of(IDENTITIES.key_of("email", ana_mail)) is None
        assert await directory.customer_of(IDENTITIES.key_of("email", zoe_mail)) is None

    async def test_an_identity_never_linked_names_no_one(self, directory: IdentityDirectory) -> None:
        assert await directory.customer_of(IDENTITIES.key_of("loyalty_card", new_id("LC"))) is None
