"""`rapport status`: where every part stands — events stored and relayed, views applied, lag, dead letters."""

from collections import Counter
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from contracts import topics
from services.cli.kafka_security import PLAINTEXT
from services.common.kafka_security import KafkaSecurity

console = Console(highlight=False, soft_wrap=True)
DLQ_SCAN_LIMIT = 10_000


@dataclass
class Status:
    stored: int
    relayed: int
    views: int
    view_position: int
    offsets: dict[int, int]  # partition -> next offset the projection will read
    end_offsets: dict[int, int]
    dead_letters: int
    dead_letter_reasons: Counter[str]


async def _database_figures(database_url: str) -> tuple[int, int, int, int, dict[int, int]]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            stored = (await conn.execute(text("SELECT coalesce(max(position), 0) FROM events"))).scalar_one()
            relayed_sql = text("SELECT coalesce(max(position), 0) FROM relay_checkpoints")
            relayed = (await conn.execute(relayed_sql)).scalar_one()
            views, view_position = (
                await conn.execute(text("SELECT count(*), coalesce(max(position), 0) FROM customer_views"))
            ).one()
            rows = await conn.execute(
                text("SELECT partition, next_offset FROM consumer_offsets WHERE topic = :t"), {"t": topics.EVENTS}
            )
            offsets = {int(p): int(o) for p, o in rows}
    finally:
        await engine.dispose()
    return int(stored), int(relayed), int(views), int(view_position), offsets


async def _broker_figures(bootstrap: str, security: KafkaSecurity) -> tuple[dict[int, int], int, Counter[str]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **security.client_options())
    await consumer.start()
    try:
        await consumer.topics()
        events = [TopicPartition(topics.EVENTS, p) for p in consumer.partitions_for_topic(topics.EVENTS) or []]
        ends = {tp.partition: offset for tp, offset in (await consumer.end_offsets(events)).items()}
        dlq = [TopicPartition(topics.INTAKE_DLQ, p) for p in consumer.partitions_for_topic(topics.INTAKE_DLQ) or []]
        reasons: Counter[str] = Counter()
        total = 0
        if dlq:
            dlq_ends = await consumer.end_offsets(dlq)
            starts = await consumer.beginning_offsets(dlq)
            total = sum(dlq_ends[tp] - starts[tp] for tp in dlq)
            consumer.assign(dlq)
            await consumer.seek_to_beginning(*dlq)
            while sum(reasons.values()) < min(total, DLQ_SCAN_LIMIT):
                batch = await consumer.getmany(timeout_ms=500)
                if not batch:
                    break
                for record in (r for records in batch.values() for r in records):
                    headers = dict(record.headers or [])
                    reasons[headers.get(topics.DLQ_REASON, b"unknown").decode()] += 1
    finally:
        await consumer.stop()
    return ends, total, reasons


async def collect(database_url: str, bootstrap: str, security: KafkaSecurity = PLAINTEXT) -> Status:
    stored, relayed, views, view_position, offsets = await _database_figures(database_url)
    ends, dead, reasons = await _broker_figures(bootstrap, security)
    return Status(stored, relayed, views, view_position, offsets, ends, dead, reasons)


def show(status: Status) -> None:
    table = Table(title="Rapport status", show_header=False)
    table.add_row("events stored (highest position)", f"{status.stored:,}")
    table.add_row("relayed to cx.events.v1", f"{status.relayed:,} (backlog {status.stored - status.relayed:,})")
    table.add_row("customer views", f"{status.views:,} (highest applied position {status.view_position:,})")
    for partition, end in sorted(status.end_offsets.items()):
        done = status.offsets.get(partition, 0)
        # The broker may have restarted empty (ends below what was read): lag is then what is left to re-read.
        table.add_row(f"projection lag, partition {partition}", f"{max(0, end - done):,} (read {done:,} of {end:,})")
    reasons = ", ".join(f"{reason}: {n}" for reason, n in status.dead_letter_reasons.most_common()) or "-"
    table.add_row("dead letters on cx.intake.dlq.v1", f"{status.dead_letters:,} ({reasons})")
    console.print(table)
