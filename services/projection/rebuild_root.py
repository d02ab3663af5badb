"""The rebuild's composition root: the adapters that replay the event store into fresh views and publish them."""

from services.projection.adapters.database import create_engine
from services.projection.adapters.event_log import HttpEventLog
from services.projection.adapters.kafka_security import kafka_client_options
from services.projection.adapters.rebuild_store import PostgresRebuildStore
from services.projection.adapters.view_publisher import create_producer
from services.projection.adapters.view_store import PostgresViewStore
from services.projection.composition import fold_rules, view_publishers
from services.projection.domain import AccountRules
from services.projection.handlers.rebuild import Progress, Rebuild, RebuildPlan, RebuildReport
from services.projection.handlers.republish_pending import republish_pending
from services.projection.settings import ProjectionSettings
from services.projection.shard_root import replay_shard_with_own_adapters


async def rebuild_views(settings: ProjectionSettings, progress: Progress | None = None) -> RebuildReport:
    """Replay the event store into fresh views, swap them in, and publish what changed."""
    engine = create_engine(settings.database_url)
    key = settings.event_log_api_key.get_secret_value() if settings.event_log_api_key else None
    event_log = HttpEventLog(settings.event_log_url, key, settings.rebuild_page_size)
    producer = create_producer(kafka_client_options(settings), settings.kafka_idempotence)
    plan = RebuildPlan(
        settings.database_url, settings.event_log_url, key, settings.rebuild_page_size,
        settings.rebuild_processes, settings.rebuild_shards,
    )  # fmt: skip
    try:
        await producer.start()
        publisher, accounts = view_publishers(producer, settings)

        async def publish() -> int:
            return await republish_pending(PostgresViewStore(engine), publisher, accounts)

        rebuild = Rebuild(
            plan, event_log, PostgresRebuildStore(engine), replay_shard_with_own_adapters, fold_rules(settings),
            AccountRules(settings.decision_maker_weight), publish, progress,
        )  # fmt: skip
        return await rebuild()
    finally:
        await producer.stop()
        await event_log.close()
        await engine.dispose()
