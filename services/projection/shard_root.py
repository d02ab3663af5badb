"""A rebuild shard's composition root, apart from bootstrap: a spawned shard process starts with nothing and
imports this module by name, so it holds only what a shard uses (PostgreSQL and the event log; no Kafka client,
no web framework), which keeps each shard's start-up to the imports it needs."""

from services.projection.adapters.database import create_engine
from services.projection.adapters.event_log import HttpEventLog
from services.projection.adapters.rebuild_store import PostgresRebuildStore
from services.projection.handlers.rebuild_shard import ShardJob, ShardProgress, ShardReport, replay_shard


async def replay_shard_with_own_adapters(job: ShardJob, progress: ShardProgress) -> ShardReport:
    """Opens the shard's own engine and event log from the job, replays, and closes them."""
    engine = create_engine(job.database_url)
    event_log = HttpEventLog(job.event_log_url, job.api_key, job.page_size)
    try:
        return await replay_shard(job, event_log, PostgresRebuildStore(engine), progress)
    finally:
        await event_log.close()
        await engine.dispose()
