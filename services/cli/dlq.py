"""`rapport dlq replay`: send dead-lettered intake records back through intake once the cause is fixed.

Records go back byte for byte with their original key and headers (the dead-letter headers removed). Intake
dedupes by event id, so replaying a record twice stores it once; one still invalid is dead-lettered again.
Progress is kept as committed offsets, one replay position per reason (consumer group
`rapport-dlq-replay.reason.<reason>`) and one for unfiltered replays (`rapport-dlq-replay.all`): a replay for one
reason moves past the records it skips, which must stay unread for the other reasons' replays.
"""

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from rich.console import Console

from contracts import topics
from services.cli.kafka_security import PLAINTEXT
from services.common.kafka_security import KafkaSecurity

console = Console(highlight=False, soft_wrap=True)
REPLAY_GROUP = "rapport-dlq-replay"
DLQ_HEADERS = {topics.DLQ_REASON, topics.DLQ_DETAIL, topics.DLQ_TOPIC, topics.DLQ_PARTITION, topics.DLQ_OFFSET}


def replay_group(reason: str | None) -> str:
    """The consumer group keeping the replay position of `reason`, or of unfiltered replays. Neither is the old
    shared `rapport-dlq-replay`, whose position may lie past records it skipped: a first run starts from the
    beginning, and intake stores a record it already has only once."""
    return f"{REPLAY_GROUP}.reason.{reason}" if reason else f"{REPLAY_GROUP}.all"


async def replay(
    bootstrap: str, reason: str | None, from_beginning: bool, dry_run: bool,
    dlq_topic: str = topics.INTAKE_DLQ, intake_topic: str = topics.INTAKE, security: KafkaSecurity = PLAINTEXT,
) -> int:  # fmt: skip
    group = replay_group(reason)
    options = {"bootstrap_servers": bootstrap, **security.client_options()}
    consumer = AIOKafkaConsumer(group_id=group, enable_auto_commit=False, **options)
    producer = AIOKafkaProducer(enable_idempotence=False, acks="all", linger_ms=5, **options)
    await consumer.start()
    await producer.start()
    replayed = 0
    try:
        await consumer.topics()
        partitions = [TopicPartition(dlq_topic, p) for p in sorted(consumer.partitions_for_topic(dlq_topic) or [])]
        consumer.assign(partitions)  # assigned, not subscribed: no group join needed to read and commit
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            committed = None if from_beginning else await consumer.committed(tp)
            if committed is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, committed)
        replayed = await _replay_until(consumer, producer, partitions, ends, reason, dry_run, intake_topic)
    finally:
        await producer.stop()
        await consumer.stop()
    return replayed


async def _replay_until(
    consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, partitions: list[TopicPartition],
    ends: dict[TopicPartition, int], reason: str | None, dry_run: bool, intake_topic: str,
) -> int:  # fmt: skip
    replayed = 0
    while any([await consumer.position(tp) < ends[tp] for tp in partitions]):  # a list: await can't go in a genexp
        batch = await consumer.getmany(timeout_ms=1000)
        if not batch:
            break
        for tp, records in batch.items():
            for record in records:
                headers = list(record.headers or [])
                why = dict(headers).get(topics.DLQ_REASON, b"").decode()
                if reason and why != reason:
                    continue
                console.print(f"{'would replay' if dry_run else 'replaying'} {tp.partition}@{record.offset} ({why})")
                if not dry_run:
                    kept = [(k, v) for k, v in headers if k not in DLQ_HEADERS]
                    await producer.send(intake_topic, record.value, key=record.key, headers=kept)
                replayed += 1
            if not dry_run:
                # only then move this reason's position past these records, skipped ones too: they are not its own
                await producer.flush()
                await consumer.commit({tp: OffsetAndMetadata(records[-1].offset + 1, "")})
    return replayed
