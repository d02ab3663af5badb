"""Publish what was committed but never reached the view topics (a crash between commit and publish)."""

from services.projection.adapters.ports import ViewPublisher, ViewStore


async def republish_pending(
    store: ViewStore, publisher: ViewPublisher, account_publisher: ViewPublisher | None = None,
    chunk: int = 1000,
) -> int:  # fmt: skip
    """Return how many views and tombstones were published; rows stay locked until their publish is acknowledged."""
    total, after = 0, ""
    while True:
        # Holding the row locks while publishing means no newer version of these views can be committed (and
        # published) in between, so the topic never ends on an older view than PostgreSQL holds.
        async with store.transaction() as tx:
            views = await tx.lock_unpublished(chunk, after)
            tombstones = await tx.lock_unpublished_tombstones(chunk)
            accounts = await tx.lock_unpublished_accounts(chunk) if account_publisher is not None else []
            if not views and not tombstones and not accounts:
                return total
            await publisher.publish(views)
            await publisher.publish_tombstones(tombstones)
            if account_publisher is not None:
                await account_publisher.publish([view for view, _ in accounts])
            await tx.mark_published({v["customer_id"]: v["position"] for v in views})
            await tx.mark_tombstones_published(tombstones)
            await tx.mark_accounts_published({view["account_id"]: revision for view, revision in accounts})
        total += len(views) + len(tombstones) + len(accounts)
        after = views[-1]["customer_id"] if views else after
