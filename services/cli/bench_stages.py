"""`rapport bench-stages`: where a projection worker's CPU goes, stage by stage, per event and per view.

`rapport bench` says how much CPU each process spends per event; this says what a worker spends it on. It folds
the bench's touchpoints through the real batch handler on a fresh embedded PostgreSQL, with a producer that builds
and compresses each Kafka batch as aiokafka does but sends nothing, and reads the CPU that took (the worker's own
and PostgreSQL's). Then it times each pure stage alone on the same events in the same batches. What the batch
cost beyond the stages' sum is the database driver (encoding rows, reading answers), the transaction's other
statements and the handler's bookkeeping. A tool, not a test: nothing asserts on its figures.
"""

import asyncio
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatch
from aiokafka.structs import RecordMetadata
from rich.console import Console
from rich.table import Table

from services.cli import cpu_meter
from services.cli.embedded import EmbeddedPostgres, ensure_database
from services.cli.loadgen import TouchpointLoad
from services.projection.adapters.database import create_engine
from services.projection.adapters.documents import compress, encode_state
from services.projection.adapters.migrate import migrate
from services.projection.adapters.state_cache import StateCache
from services.projection.adapters.view_publisher import VIEW_COMPRESSION, KafkaViewPublisher, has_personal_fields
from services.projection.adapters.view_store import PostgresViewStore
from services.projection.domain import CustomerState, FoldRules, StoredEvent, event_from_record, fold, render_view
from services.projection.handlers.project_batch import ProjectBatch
from services.projection.runtime import tune_gc

console = Console(highlight=False, soft_wrap=True)
_CODECS = {None: 0, "gzip": DefaultRecordBatch.CODEC_GZIP, "snappy": DefaultRecordBatch.CODEC_SNAPPY,
           "lz4": DefaultRecordBatch.CODEC_LZ4, "zstd": DefaultRecordBatch.CODEC_ZSTD}  # fmt: skip


class Record(NamedTuple):
    offset: int
    value: bytes
    headers: list[tuple[str, bytes]]


class UnsentProducer:
    """The part of AIOKafkaProducer the view publisher uses: batches are built and compressed, then dropped."""

    def __init__(self, partitions: int = 12) -> None:
        self._partitions = set(range(partitions))
        self._offsets = [0] * partitions

    async def partitions_for(self, topic: str) -> set[int]:
        return self._partitions

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(1024 * 1024, _CODECS[VIEW_COMPRESSION])

    async def send_batch(self, batch: BatchBuilder, topic: str, *, partition: int) -> "asyncio.Future[Any]":
        batch._build()  # what a send costs here: the batch closed, encoded and compressed
        delivered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        offset, self._offsets[partition] = self._offsets[partition], self._offsets[partition] + batch.record_count()
        delivered.set_result(RecordMetadata(topic, partition, None, offset, -1, -1, -1))
        return delivered


@dataclass
class Stages:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.process_time()
        yield
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.process_time() - started


def touchpoints(events: int, customers: int) -> list[Record]:
    """The bench's touchpoints as the relay publishes them (canonical documents with position and sequence)."""
    load, records = TouchpointLoad(customers, "st"), []
    for position in range(1, events + 1):
        event, _, sequence = load.next_event()
        event.update(position=position, sequence=sequence, recordedat="2026-12-02T09:00:00.000000Z")
        records.append(Record(position - 1, orjson.dumps(event), []))
    return records


def stages_alone(batches: list[list[Record]], rules: FoldRules) -> tuple[dict[str, float], int]:
    """Each pure stage timed alone over a whole batch at a time, as the handler runs them; CPU seconds per stage
    and views made, from the second batch on (the handler's first batch is not counted either)."""
    states: dict[str, CustomerState] = {}
    stages, views = Stages(), 0
    for number, batch in enumerate(batches):
        if number == 1:
            stages, views = Stages(), 0
        with stages.timed(DECODE):
            decoded = [_decode(record) for record in batch]
        grouped: dict[str, list[StoredEvent]] = {}
        for event in decoded:
            grouped.setdefault(event.customer_id, []).append(event)
        changed = [states.setdefault(customer_id, CustomerState(customer_id)) for customer_id in grouped]
        with stages.timed("fold"):
            for state in changed:
                fold(state, grouped[state.customer_id], rules)
        with stages.timed("render the view"):
            rendered = [render_view(state, rules) for state in changed]
        with stages.timed("serialise the view (orjson)"):
            serialised = [orjson.dumps(view) for view in rendered]
        with stages.timed("compress the view for storage (LZ4)"):
            for document in serialised:
                compress(document)
        with stages.timed("encode the fold state (msgpack + LZ4)"):
            for state in changed:
                encode_state(state)
        with stages.timed("check the view for personal fields"):
            for view, document in zip(rendered, serialised, strict=True):
                has_personal_fields(view, document)
        views += len(changed)
    return stages.seconds, views


DECODE = "decode a record, pick the fold's fields"


def _decode(record: Record) -> StoredEvent:
    return event_from_record(orjson.loads(record.value))


async def through_the_handler(batches: list[list[Record]], rules: FoldRules, database_url: str) -> dict[str, float]:
    """CPU seconds of this process and of PostgreSQL folding every batch through ProjectBatch, and views made."""
    engine = create_engine(database_url)
    try:
        publisher = KafkaViewPublisher(UnsentProducer(), "cx.customer-views.v1")
        project = ProjectBatch(PostgresViewStore(engine), publisher, rules, "bench-stages", "cx.events.v1",
                               state_cache=StateCache(20_000))  # fmt: skip
        await project({0: batches[0]})  # connects and prepares; not counted
        before, started = cpu_meter.snapshot(), time.process_time()
        views = 0
        for batch in batches[1:]:
            views += (await project({0: batch})).views
        mine = time.process_time() - started
        spent = cpu_meter.spent(before, cpu_meter.snapshot())
        return {"worker": mine, "postgres": spent.get("PostgreSQL", 0.0), "views": views}
    finally:
        await engine.dispose()


def run_stages(events: int, customers: int, batch: int) -> None:
    rules = FoldRules()
    records = touchpoints(events, customers)
    batches = [records[start : start + batch] for start in range(0, len(records), batch)]
    tune_gc()  # as a worker runs: a young generation of 50,000 allocations, start-up frozen
    with tempfile.TemporaryDirectory(prefix="rapport-stages-") as scratch:
        postgres = EmbeddedPostgres(Path(scratch) / "postgres").start()
        try:
            url = postgres.url("rapport")
            asyncio.run(ensure_database(url))
            asyncio.run(migrate(url))
            whole = asyncio.run(through_the_handler(batches, rules, url))
        finally:
            postgres.stop()
    alone, _ = stages_alone(batches, rules)
    counted = sum(len(b) for b in batches[1:])
    report(alone, whole, counted, batch)


def report(alone: dict[str, float], whole: dict[str, float], events: int, batch: int) -> None:
    views = int(whole["views"])
    table = Table(title=f"A projection worker, stage by stage ({events:,} events in batches of {batch:,}, "
                        f"{views:,} views written, {views / events:.2f} per event)")  # fmt: skip
    for column in ("stage", "µs per event", "µs per view", "share of the worker's CPU"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    worker = whole["worker"]
    for stage, seconds in alone.items():
        table.add_row(stage, f"{seconds / events * 1e6:.1f}", f"{seconds / views * 1e6:.1f}", f"{seconds / worker:.0%}")
    rest = worker - sum(alone.values())
    table.add_row("the rest: database driver, other statements, Kafka batches, bookkeeping",
                  f"{rest / events * 1e6:.1f}", f"{rest / views * 1e6:.1f}", f"{rest / worker:.0%}")  # fmt: skip
    table.add_row("[b]the worker, whole batches through the handler[/b]", f"{worker / events * 1e6:.1f}",
                  f"{worker / views * 1e6:.1f}", "100%")  # fmt: skip
    table.add_row("PostgreSQL, for those batches", f"{whole['postgres'] / events * 1e6:.1f}",
                  f"{whole['postgres'] / views * 1e6:.1f}", "")  # fmt: skip
    console.print(table)
