"""Composition root: picks the concrete adapters and wires the HTTP app and the consumer worker."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.limits import RateLimiter
from services.common.connection_loss import worth_retrying
from services.projection.adapters.broker_probe import check_broker
from services.projection.adapters.database import create_engine
from services.projection.adapters.kafka_security import kafka_client_options
from services.projection.adapters.metrics import ProjectionMetrics
from services.projection.adapters.migrate import check_schema, known_revisions
from services.projection.adapters.state_cache import StateCache
from services.projection.adapters.view_listener import Demand, PostgresChangeListener
from services.projection.adapters.view_publisher import create_producer
from services.projection.adapters.view_reader import PostgresViewReader
from services.projection.adapters.view_store import PostgresViewStore
from services.projection.composition import fold_rules, view_publishers
from services.projection.domain import AccountRules
from services.projection.entrypoints.auth import Gatekeeper, announce
from services.projection.entrypoints.brief import BriefConfig, IdentityClient, SessionStore
from services.projection.entrypoints.consumer import ConsumerStatus, ProjectionConsumer, create_consumer
from services.projection.entrypoints.http import create_http_app
from services.projection.entrypoints.live import ViewHub
from services.projection.entrypoints.observability import (
    CachedCheck,
    Check,
    ConsumerStoppedError,
    Liveness,
    Readiness,
)
from services.projection.handlers.project_batch import ProjectBatch
from services.projection.handlers.republish_pending import republish_pending
from services.projection.settings import ProjectionSettings

log = structlog.get_logger(__name__)


@dataclass
class Worker:
    """A running consumer worker; stop() ends it and closes its connections."""

    task: "asyncio.Task[None]"
    status: ConsumerStatus

    async def check(self) -> None:
        """Raise ConsumerStoppedError once the worker has ended other than by stop(): it runs until cancelled, so
        it crashed, and nothing in this process starts it again."""
        if self.task.done() and not self.task.cancelled():
            raise ConsumerStoppedError("the projection consumer stopped") from self.task.exception()

    async def stop(self, timeout_s: float = 10.0) -> None:
        if self.task.done():
            return  # crashed earlier: reported then (and by check()), not raised again at shutdown
        self.task.cancel()
        # Bounded: a Kafka client stuck leaving its group (seen on the embedded broker) must not keep the process,
        # or the pod's termination, waiting forever; PostgreSQL holds the offsets that matter. asyncio.wait, not
        # a timeout around `await task`: that would cancel the task again and wait for it all the same.
        done, _ = await asyncio.wait({self.task}, timeout=timeout_s)
        if not done:
            log.warning("projection consumer did not stop in time", after_s=timeout_s)
        elif not self.task.cancelled() and self.task.exception() is not None:
            log.warning("projection consumer failed while stopping", error=repr(self.task.exception()))


RETRY_FIRST_S, RETRY_MAX_S = 0.5, 30.0
STEADY_S = 60.0  # a run that lasted this long starts the next backoff from the beginning


async def run_worker(
    settings: ProjectionSettings, engine: AsyncEngine | None = None, metrics: ProjectionMetrics | None = None,
    status: ConsumerStatus | None = None,
) -> None:  # fmt: skip
    """Consume until cancelled. A lost database connection or a Kafka error starts the worker again after a
    bounded backoff, with fresh connections, from the offsets PostgreSQL holds: a batch that failed committed
    nothing, so it is simply read again. Any other error ends the worker (and /healthz says so)."""
    status = status or ConsumerStatus()
    delay = RETRY_FIRST_S
    while True:
        started = time.monotonic()
        try:
            await _run_worker_once(settings, engine, metrics, status)
            return
        except Exception as error:
            if not worth_retrying(error):
                raise
            delay = RETRY_FIRST_S if time.monotonic() - started > STEADY_S else delay
            log.warning("projection worker restarting", error=repr(error), retry_in_s=delay)
            status.next_offsets.clear()
            status.lag.clear()
            if engine is not None:
                await engine.dispose()  # pooled connections may be dead; new ones are made on demand
            await asyncio.sleep(delay)
            delay = min(RETRY_MAX_S, delay * 2)


async def _run_worker_once(
    settings: ProjectionSettings, engine: AsyncEngine | None, metrics: ProjectionMetrics | None,
    status: ConsumerStatus,
) -> None:  # fmt: skip
    """Publish what a crash left unpublished, then project batch after batch."""
    own_engine = engine is None
    engine = engine or create_engine(settings.database_url)
    store = PostgresViewStore(engine)
    kafka = kafka_client_options(settings)
    producer = create_producer(kafka, settings.kafka_idempotence)
    consumer = create_consumer(kafka, settings.consumer_group, settings.batch_timeout_ms)
    try:
        await producer.start()
        publisher, accounts = view_publishers(producer, settings)
        if pending := await republish_pending(store, publisher, accounts):
            log.info("republished views a crash left unpublished", views=pending)
        await consumer.start()
        project = ProjectBatch(
            store, publisher, fold_rules(settings), settings.consumer_group, settings.events_topic,
            account_publisher=accounts, account_rules=AccountRules(settings.decision_maker_weight),
            state_cache=StateCache(settings.state_cache_size) if settings.state_cache_size else None,
        )  # fmt: skip
        await ProjectionConsumer(
            consumer, store, project, topic=settings.events_topic, group=settings.consumer_group,
            batch_max_records=settings.batch_max_records, batch_timeout_ms=settings.batch_timeout_ms,
            batch_lagging_max_records=settings.batch_lagging_max_records, status=status, metrics=metrics,
        ).run()  # fmt: skip
    finally:
        # Stopping may fail too when the broker is what went away; the error that matters is the one above.
        with contextlib.suppress(Exception):
            await consumer.stop()
        with contextlib.suppress(Exception):
            await producer.stop()
        if own_engine:
            await engine.dispose()


def start_worker(
    settings: ProjectionSettings, engine: AsyncEngine | None = None, metrics: ProjectionMetrics | None = None
) -> Worker:
    """Run a worker in the background of the current event loop (for the API process, `rapport dev`, tests)."""
    status = ConsumerStatus()
    task = asyncio.create_task(run_worker(settings, engine, metrics, status), name="projection-consumer")
    task.add_done_callback(_report_crash)
    return Worker(task, status)


def _report_crash(task: "asyncio.Task[None]") -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("projection consumer stopped", error=repr(task.exception()))


def gatekeeper(settings: ProjectionSettings) -> Gatekeeper:
    limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    return Gatekeeper(settings.keys(), limiter, settings.max_streams_per_key)


def brief_config(settings: ProjectionSettings) -> BriefConfig:
    """Sessions in this process's memory (a replica behind a load balancer needs sticky sessions), Secure cookies
    outside development, identity lookups on the experience service."""
    key = settings.brief_identity_api_key
    return BriefConfig(
        SessionStore(settings.brief_session_idle_s),
        IdentityClient(settings.brief_identity_url, key.get_secret_value() if key else None),
        secure_cookie=settings.environment != "development",
    )


def readiness(settings: ProjectionSettings, engine: AsyncEngine, worker: Worker | None) -> Readiness:
    """Database and schema asked on every probe (cheap); the broker at most every few seconds."""
    known, kafka = known_revisions(), kafka_client_options(settings)
    reader = PostgresViewReader(engine, group=settings.consumer_group, topic=settings.events_topic)

    async def schema() -> None:
        await check_schema(engine, known)

    async def broker() -> None:
        await check_broker(kafka)

    checks: dict[str, Check] = {
        "database": reader.ping, "schema": schema, "broker": CachedCheck(broker, settings.readiness_broker_cache_s)
    }  # fmt: skip
    if worker is None:
        return Readiness(checks)
    # A crashed consumer's lag stays frozen (or unknown), which would pass for caught up: ask the worker itself.
    return Readiness({**checks, "consumer": worker.check}, worker.status.total_lag, settings.ready_max_lag)


def create_app(settings: ProjectionSettings, run_consumer: bool = True) -> FastAPI:
    """The HTTP API; with `run_consumer`, its lifespan also runs one consumer worker."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        announce(app.state.gatekeeper)
        engine = create_engine(settings.database_url)
        app.state.view_reader = PostgresViewReader(engine, group=settings.consumer_group, topic=settings.events_topic)
        app.state.stream_heartbeat_s = settings.stream_heartbeat_s
        app.state.min_position_wait_s = settings.min_position_wait_s
        # One LISTEN connection per process, whichever process's worker committed the change.
        listener = PostgresChangeListener(settings.database_url, hub.publish, demand)
        app.state.change_listener = listener
        listening = asyncio.create_task(listener.run(), name="view-change-listener")
        worker = start_worker(settings, engine, metrics) if run_consumer else None
        app.state.readiness = readiness(settings, engine, worker)
        if worker is not None:
            # Lost connections and broker errors are retried inside the worker (run_worker); any other crash is
            # answered by a restart (the liveness probe): the next start resumes from the offsets committed with
            # the views and republishes what was pending.
            app.state.liveness = Liveness({"consumer": worker.check})
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening
            await engine.dispose()

    demand = Demand()  # the listener LISTENs only while the hub has subscribers
    hub = ViewHub(settings.stream_queue_size, on_demand=demand.set)
    metrics = ProjectionMetrics()
    return create_http_app(
        hub=hub, gatekeeper=gatekeeper(settings), metrics=metrics, brief=brief_config(settings), lifespan=lifespan
    )
