"""Composition root: picks the concrete adapters and wires the HTTP app and the consumer worker."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.projection.adapters.database import create_engine
from services.projection.adapters.view_listener import PostgresChangeListener
from services.projection.adapters.view_publisher import KafkaViewPublisher, create_producer
from services.projection.adapters.view_reader import PostgresViewReader
from services.projection.adapters.view_store import PostgresViewStore
from services.projection.domain import AccountRules, FoldRules
from services.projection.entrypoints.consumer import ProjectionConsumer, create_consumer
from services.projection.entrypoints.http import create_http_app
from services.projection.entrypoints.live import ViewHub
from services.projection.handlers.project_batch import ProjectBatch
from services.projection.handlers.republish_pending import republish_pending
from services.projection.settings import ProjectionSettings

log = structlog.get_logger(__name__)


def fold_rules(settings: ProjectionSettings) -> FoldRules:
    return FoldRules(
        settings.recent_limit, settings.negativity_bias, settings.half_life_days, negative_run=settings.negative_run,
        falling_half_life_days=settings.falling_half_life_days, falling_drop=settings.falling_drop,
    )  # fmt: skip


@dataclass
class Worker:
    """A running consumer worker; stop() ends it and closes its connections."""

    task: "asyncio.Task[None]"

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def run_worker(settings: ProjectionSettings, engine: AsyncEngine | None = None) -> None:
    """Consume until cancelled: publish what a crash left unpublished, then project batch after batch."""
    own_engine = engine is None
    engine = engine or create_engine(settings.database_url)
    store = PostgresViewStore(engine)
    producer = create_producer(settings.kafka_bootstrap, settings.kafka_idempotence)
    consumer = create_consumer(settings.kafka_bootstrap, settings.consumer_group, settings.batch_timeout_ms)
    try:
        await producer.start()
        publisher = KafkaViewPublisher(producer, settings.views_topic)
        accounts = KafkaViewPublisher(producer, settings.account_views_topic, key_field="account_id")
        if pending := await republish_pending(store, publisher, accounts):
            log.info("republished views a crash left unpublished", views=pending)
        await consumer.start()
        project = ProjectBatch(
            store, publisher, fold_rules(settings), settings.consumer_group, settings.events_topic,
            account_publisher=accounts, account_rules=AccountRules(settings.decision_maker_weight),
        )  # fmt: skip
        await ProjectionConsumer(
            consumer, store, project, topic=settings.events_topic, group=settings.consumer_group,
            batch_max_records=settings.batch_max_records, batch_timeout_ms=settings.batch_timeout_ms,
        ).run()  # fmt: skip
    finally:
        await consumer.stop()
        await producer.stop()
        if own_engine:
            await engine.dispose()


def start_worker(settings: ProjectionSettings, engine: AsyncEngine | None = None) -> Worker:
    """Run a worker in the background of the current event loop (for the API process, `rapport dev`, tests)."""
    task = asyncio.create_task(run_worker(settings, engine), name="projection-consumer")
    task.add_done_callback(_report_crash)
    return Worker(task)


def _report_crash(task: "asyncio.Task[None]") -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("projection consumer stopped", error=repr(task.exception()))


def create_app(settings: ProjectionSettings, run_consumer: bool = True) -> FastAPI:
    """The HTTP API; with `run_consumer`, its lifespan also runs one consumer worker."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        app.state.view_reader = PostgresViewReader(engine)
        app.state.stream_heartbeat_s = settings.stream_heartbeat_s
        app.state.min_position_wait_s = settings.min_position_wait_s
        # One LISTEN connection per process, whichever process's worker committed the change.
        listener = PostgresChangeListener(settings.database_url, hub.publish)
        app.state.change_listener = listener
        listening = asyncio.create_task(listener.run(), name="view-change-listener")
        worker = start_worker(settings, engine) if run_consumer else None
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening
            await engine.dispose()

    hub = ViewHub(settings.stream_queue_size)
    return create_http_app(hub=hub, lifespan=lifespan)
