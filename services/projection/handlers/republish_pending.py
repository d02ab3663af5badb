"""Publish views that were committed but never reached the view topic (a crash between commit and publish)."""

from services.projection.adapters.view_publisher import KafkaViewPublisher
from services.projection.adapters.view_store import PostgresViewStore


async def republish_pending(store: PostgresViewStore, publisher: KafkaViewPublisher, chunk: int = 1000) -> int:
    """Return how many views were published; rows stay locked until their publish is acknowledged."""
    total = 0
    while True:
        # Holding the row locks while publishing means no newer version of these views can be committed (and
        # published) in between, so the topic never ends on an older view than PostgreSQL holds.
        async with store.transaction() as tx:
            views = await tx.lock_unpublished(chunk)
            if not views:
                return total
            await publisher.publish(views)
            await tx.mark_published({v["customer_id"]: v["position"] for v in views})
        total += len(views)
