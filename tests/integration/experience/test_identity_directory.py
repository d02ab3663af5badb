"""The identity lookup on real PostgreSQL: linked identities find their customer; unlinked or erased ones do not."""

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import parse_event
from services.experience.adapters.event_store import PostgresEventStore, PostgresIdentityDirectory
from services.experience.handlers.append_events import append_events
from services.experience.handlers.record_events import to_new_event

from ...unit.experience.events import email, erasure, identity_linked, identity_unlinked, new_id
from ...unit.experience.fakes import IDENTITIES

pytestmark = pytest.mark.integration


async def record(store: PostgresEventStore, *documents: dict) -> None:  # type: ignore[type-arg]
    await append_events(store, [to_new_event(parse_event(d), IDENTITIES) for d in documents])


async def test_linked_identities_find_their_customer_until_unlinked_or_erased(
    store: PostgresEventStore, engine: AsyncEngine
) -> None:
    directory = PostgresIdentityDirectory(engine)
    ana, zoe = new_id("c"), new_id("c")
    ana_mail, zoe_mail = email("ana"), email("zoe")
    await record(store, identity_linked(ana, "email", ana_mail), identity_linked(zoe, "email", zoe_mail))

    assert await directory.customer_of(IDENTITIES.key_of("email", ana_mail.upper())) == ana  # normalised
    assert await directory.customer_of(IDENTITIES.key_of("phone", ana_mail)) is None  # the kind counts too

    await record(store, identity_unlinked(ana, "email", ana_mail), erasure(zoe))
    assert await directory.customer_of(IDENTITIES.key_of("email", ana_mail)) is None
    assert await directory.customer_of(IDENTITIES.key_of("email", zoe_mail)) is None
