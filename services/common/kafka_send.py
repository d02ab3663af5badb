"""Send many records as a few closed per-partition batches, and wait for every acknowledgement.

aiokafka's send() costs a future, a partition lookup and an accumulator append per record, and an open batch
waits out linger_ms even when it is full. A batch built with create_batch() and handed over with send_batch()
is closed: it goes out at once, one request per partition. The partition is the producer's own default
(murmur2 of the key), so a key lands where send() would have put it and stays in order with what came before.
"""

import asyncio
import random
from collections.abc import Iterable, Sequence
from functools import lru_cache

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2

Header = tuple[str, bytes]
Record = tuple[bytes | None, bytes | None, Sequence[Header] | None]  # key, value (None: a tombstone), headers


@lru_cache(maxsize=1 << 16)
def partition_of(key: bytes, partitions: int) -> int:
    """The partition aiokafka's DefaultPartitioner picks for `key` among partitions 0..`partitions`-1.

    murmur2 is pure Python in aiokafka (about 2 us a key, 2-3% of a worker's CPU); the same customers come back
    batch after batch, so the answer is remembered, boundedly, per key and partition count."""
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions


async def send_batched(producer: AIOKafkaProducer, topic: str, records: Iterable[Record]) -> dict[int, int]:
    """Send every record of `records`, in order per partition, and return once the broker acknowledged all: for
    each partition sent to, the offset the broker gave the last batch's first record."""
    partitions = sorted(await producer.partitions_for(topic))
    by_partition: dict[int, list[Record]] = {}
    for record in records:
        key = record[0]
        # A record without a key goes where aiokafka's partitioner would send it (a random available one).
        where = partitions[partition_of(key, len(partitions))] if key is not None else _keyless(partitions)
        by_partition.setdefault(where, []).append(record)
    deliveries = []
    for partition, mine in by_partition.items():
        batch = producer.create_batch()
        for key, value, headers in mine:
            if batch.append(key=key, value=value, timestamp=None, headers=headers or []) is None:  # full
                deliveries.append(await producer.send_batch(batch, topic, partition=partition))
                batch = producer.create_batch()
                batch.append(key=key, value=value, timestamp=None, headers=headers or [])
        deliveries.append(await producer.send_batch(batch, topic, partition=partition))
    acknowledged: dict[int, int] = {}
    for metadata in await asyncio.gather(*deliveries):
        acknowledged[metadata.partition] = max(metadata.offset, acknowledged.get(metadata.partition, -1))
    return acknowledged


def _keyless(partitions: list[int]) -> int:
    return random.choice(partitions)
