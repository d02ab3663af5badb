"""Schema changes of the event store: a customer erased before migration 0003 loses what 0002 left of them."""

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from services.experience.adapters.migrate import MIGRATIONS
from tests.integration.migration_steps import migration_to

from ...unit.experience.events import new_id, preference

pytestmark = pytest.mark.integration

NEEDS = {"channel": "email", "name_to_use": "Lulu", "avoid_topics": ["her divorce"], "favourite_team": "Betis"}


def _to(revision: str, downgrade: bool = False) -> Callable[[Connection], None]:
    return migration_to(MIGRATIONS, revision, downgrade)


async def store(connection: AsyncConnection, event: dict[str, Any]) -> None:
    await connection.execute(
        text(
            "INSERT INTO events (event_id, customer_id, sequence, type, source, occurred_at, envelope) "
            "VALUES (:id, :customer, 1, :type, :source, now(), CAST(:envelope AS jsonb))"
        ),
        {"id": event["id"], "customer": event["data"]["customer_id"], "type": event["type"],
         "source": event["source"], "envelope": orjson.dumps(event).decode()},
    )  # fmt: skip


async def preferences_of(connection: AsyncConnection, customer: str) -> dict[str, Any]:
    envelope = await connection.execute(text("SELECT envelope FROM events WHERE customer_id = :c"), {"c": customer})
    return dict(envelope.scalar_one()["data"]["preferences"])


async def test_a_customer_erased_before_0003_loses_the_personal_preferences_0002_left(
    database_factory: Callable[[], Awaitable[str]],
) -> None:
    gone, here = new_id("c"), new_id("c")
    engine = create_async_engine(await database_factory())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_to("0002"))
            for customer in (gone, here):
                event = preference(customer)
                event["data"]["preferences"] = NEEDS
                await store(connection, event)
            # the erasure as 0002 did it
            await connection.execute(text("INSERT INTO erased_customers VALUES (:c, 'erasure-1')"), {"c": gone})
            await connection.execute(text("SELECT set_config('rapport.redaction', 'on', true)"))
            await connection.execute(
                text("UPDATE events SET envelope = rapport_redacted(envelope, type) WHERE customer_id = :c"),
                {"c": gone},
            )
            left_by_0002 = await preferences_of(connection, gone)
        async with engine.begin() as connection:
            await connection.run_sync(_to("head"))
            erased, kept = await preferences_of(connection, gone), await preferences_of(connection, here)
        async with engine.begin() as connection:
            await connection.run_sync(_to("0002", downgrade=True))
            as_0002 = await connection.scalar(
                text("SELECT rapport_redacted(CAST(:e AS jsonb), 'cx.preference.stated.v1')"),
                {"e": orjson.dumps({"data": {"preferences": NEEDS}}).decode()},
            )

        assert "name_to_use" not in left_by_0002 and "favourite_team" in left_by_0002
        assert erased == {"channel": "email"}
        assert kept == NEEDS  # a customer who was not erased keeps everything
        assert set(as_0002["data"]["preferences"]) == set(NEEDS) - {"name_to_use"}  # a downgrade restores 0002
    finally:
        await engine.dispose()
