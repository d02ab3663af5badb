"""The composition root: the one place that picks the concrete adapters and wires the service together."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import structlog
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.limits import RateLimiter
from services.common.kafka_security import KafkaSecurity
from services.common.pooled_connections import replace_closed_connections
from services.experience.adapters.event_store import PostgresEventStore, PostgresIdentityDirectory
from services.experience.adapters.kafka import KafkaRecordProducer
from services.experience.adapters.metrics import ExperienceMetrics
from services.experience.adapters.migrate import revisions
from services.experience.domain.identities import IdentityHasher
from services.experience.entrypoints.auth import Authenticator
from services.experience.entrypoints.event_bodies import Limits
from services.experience.entrypoints.http import create_api
from services.experience.entrypoints.identity_lookup import IdentityLookup
from services.experience.entrypoints.kafka_intake import subscribe_intake
from services.experience.entrypoints.readiness import Readiness
from services.experience.handlers.intake import IntakeHandler
from services.experience.handlers.record_events import EventRecorder
from services.experience.handlers.relay import EventRelay
from services.experience.settings import ExperienceSettings

log = structlog.get_logger(__name__)


async def _start_intake(broker: KafkaBroker, retry_s: float = 2.0) -> None:
    while True:
        try:
            await broker.start()
            return
        except Exception as error:
            log.warning("intake.start_failed", error=repr(error), retry_in_s=retry_s)
            await asyncio.sleep(retry_s)


async def _within(seconds: float, part: str, step: Awaitable[Any]) -> None:
    """One step of shutting down, given up after `seconds`: a Kafka client stuck in a group join (seen on the
    embedded broker) must not keep the process, or the pod's termination, waiting forever."""
    # asyncio.wait, not a timeout around `await`: that would cancel the step and wait for it all the same.
    running = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({running}, timeout=seconds)
    if not done:
        log.warning("shutdown.step_timed_out", part=part, after_s=seconds)
    elif not running.cancelled() and running.exception() is not None:
        log.warning("shutdown.step_failed", part=part, error=repr(running.exception()))


def kafka_security(settings: ExperienceSettings) -> KafkaSecurity:
    return KafkaSecurity.of(
        settings.kafka_security_protocol, settings.kafka_sasl_mechanism, settings.kafka_sasl_username,
        settings.kafka_sasl_password, settings.kafka_ssl_cafile,
    )  # fmt: skip


def create_app(settings: ExperienceSettings) -> FastAPI:
    """The whole service as an ASGI app; its lifespan starts and stops the intake consumer and the relay."""
    metrics = ExperienceMetrics()
    security = kafka_security(settings)
    # hide_parameters: an error message must never carry a batch's rows (customer notes) into the logs.
    engine = replace_closed_connections(
        create_async_engine(settings.database_url, pool_size=settings.database_pool_size, hide_parameters=True)
    )
    store = PostgresEventStore(engine)
    producer = KafkaRecordProducer(
        settings.kafka_bootstrap,
        idempotence=settings.kafka_idempotence,
        linger_ms=settings.kafka_linger_ms,
        security=security,
    )
    relay = EventRelay(
        store,
        producer,
        settings.events_topic,
        name=settings.events_topic,
        batch_size=settings.relay_batch_size,
        poll_interval_s=settings.relay_poll_interval_s,
        metrics=metrics,
    )
    hasher = IdentityHasher(settings.identity_key())
    # The relay publishes what this process appended from memory, woken by the hand-over itself; a batch not
    # handed over (an erasure's) wakes it by its NOTIFY, and the poll interval is only the fallback. No wake from the
    # recorder: it came after the hand-over, often once the relay had taken the batch, and sent it to the store.
    store.hand_committed_to(relay.offer)
    recorder = EventRecorder(store, hasher, metrics=metrics)
    broker = KafkaBroker(
        settings.kafka_bootstrap, enable_idempotence=settings.kafka_idempotence, security=security.faststream()
    )
    intake = IntakeHandler(recorder, producer, settings.intake_dlq_topic, allow_erasure=settings.intake_accepts_erasure)
    subscribe_intake(
        broker,
        intake,
        topic=settings.intake_topic,
        group_id=settings.intake_group_id,
        max_records=settings.intake_max_records,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await producer.start()
        tasks = [
            asyncio.create_task(relay.run(), name="experience-relay"),
            # Joining the consumer group takes seconds; HTTP need not wait for it.
            asyncio.create_task(_start_intake(broker), name="experience-intake-start"),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await _within(settings.shutdown_step_s, "background tasks", asyncio.gather(*tasks, return_exceptions=True))
            await _within(settings.shutdown_step_s, "intake consumer", broker.stop())
            await _within(settings.shutdown_step_s, "producer", producer.stop())
            await engine.dispose()

    limits = Limits(max_body_bytes=settings.max_body_bytes, max_batch_events=settings.max_batch_events)
    head, older = revisions()
    return create_api(
        recorder,
        store,
        limits,
        lifespan=lifespan,
        authenticator=Authenticator(settings.keys(), RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)),
        readiness=Readiness(store, producer, head, older, broker_cache_s=settings.readiness_broker_cache_s),
        relay_name=relay.name,
        identities=IdentityLookup(PostgresIdentityDirectory(engine), hasher),
    )
