"""`rapport tail`: a topic's records in readable form, for people debugging a flow."""

import asyncio
import time
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from rich.console import Console

from services.cli.kafka_security import PLAINTEXT
from services.common.kafka_security import KafkaSecurity

console = Console(highlight=False, soft_wrap=True)


def summarise(value: bytes | None) -> str:
    """One line a person can scan: a view's counts, an event's type and data, or the raw text."""
    if value is None:
        return "(tombstone)"
    try:
        doc: Any = orjson.loads(value)
    except orjson.JSONDecodeError:
        return value[:200].decode("utf-8", "replace")
    if isinstance(doc, dict) and "experience" in doc:
        x = doc["experience"]
        return (
            f"view v{doc.get('version')} @{doc.get('position')} touchpoints={x.get('touchpoints')} "
            f"+{x.get('positive')}/-{x.get('negative')} score={x.get('score')} "
            f"prefs={sorted(doc.get('preferences', {}))}"
        )
    if isinstance(doc, dict) and "type" in doc:
        data = orjson.dumps(doc.get("data")).decode()
        return f"{doc['type']} id={doc.get('id')} @{doc.get('position', '-')} data={data}"
    return orjson.dumps(doc).decode()[:200]


async def tail_topic(
    bootstrap: str, topic: str, from_beginning: bool, count: int | None, idle_exit: float | None,
    security: KafkaSecurity = PLAINTEXT,
) -> None:  # fmt: skip
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **security.client_options())
    await consumer.start()
    try:
        await consumer.topics()  # fetches metadata; an unassigned consumer knows no partitions before it
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            console.print(f"[red]topic {topic} does not exist[/red]")
            return
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)  # no group: tailing must never move anyone's committed offsets
        if from_beginning:
            await consumer.seek_to_beginning(*assigned)
        else:
            await consumer.seek_to_end(*assigned)
        await _print_records(consumer, count, idle_exit)
    finally:
        await consumer.stop()


async def _print_records(consumer: AIOKafkaConsumer, count: int | None, idle_exit: float | None) -> None:
    seen, last = 0, time.monotonic()
    while count is None or seen < count:
        batch = await consumer.getmany(timeout_ms=200)
        if not batch:
            if idle_exit is not None and time.monotonic() - last > idle_exit:
                return
            await asyncio.sleep(0)
            continue
        last = time.monotonic()
        for records in batch.values():
            for record in records:
                key = record.key.decode("utf-8", "replace") if record.key else "-"
                headers = {k: v.decode("utf-8", "replace") for k, v in record.headers or []}
                extra = f" headers={headers}" if headers else ""
                # markup off: a value's own brackets ("[/b]" in a note) are data, not rich styles to apply or fail on
                line = f"[{record.partition}@{record.offset}] {key}: {summarise(record.value)}{extra}"
                console.print(line, markup=False)
                seen += 1
