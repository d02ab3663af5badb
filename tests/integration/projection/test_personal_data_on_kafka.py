"""Kafka has no pii:read: the view topic carries no personal field unless a deployment opts in (behind ACLs)."""

import uuid

import pytest

from tests.integration.projection.conftest import Projection
from tests.unit.projection.factories import record

pytestmark = pytest.mark.integration

PERSONAL = {"name_to_use": "Ana", "accessibility": "large print", "loyalty_nickname": "Anita"}


async def publish_one_customer(projection: Projection, **overrides: bool) -> dict:  # type: ignore[type-arg]
    customer = f"c-{uuid.uuid4().hex[:8]}"
    await projection.produce([
        record(customer, 1, "preference", preferences={**PERSONAL, "channel": "email", "tone": "warm"}),
        record(customer, 2, sentiment=0.5),
    ])  # fmt: skip
    worker = projection.start(**overrides)
    try:
        stored = (await projection.wait_for_versions(2))[customer]
        published = (await projection.published_views())[customer]
    finally:
        await worker.stop()
    assert set(PERSONAL) <= set(stored["preferences"])  # the store keeps everything; the API redacts per reader
    return published  # type: ignore[no-any-return]


async def test_the_view_topic_carries_no_personal_field_by_default(projection: Projection) -> None:
    published = await publish_one_customer(projection)
    assert set(published["preferences"]) == {"channel", "tone"}
    assert published["version"] == 2


async def test_a_deployment_may_opt_in_to_the_full_view_on_kafka(projection: Projection) -> None:
    published = await publish_one_customer(projection, view_topic_personal_data=True)
    assert set(PERSONAL) <= set(published["preferences"])
