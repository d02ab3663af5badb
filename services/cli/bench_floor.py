"""The broker's own produce-to-consume latency at the bench's rate, with the projection's client settings: the floor
that freshness through Rapport (two hops, and a fold between them) is judged against."""

import asyncio
import time


async def broker_floor(bootstrap: str, rate: int, seconds: float) -> list[float]:
    """The broker's own produce-to-consume latency at the same rate: the floor freshness is judged against."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    topic = f"rapport-bench-probe-{int(time.time())}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 4, 1)])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, enable_idempotence=False, acks="all")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, fetch_max_wait_ms=10, enable_auto_commit=False)
    await producer.start()
    await consumer.start()
    partitions = [TopicPartition(topic, p) for p in range(4)]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    latencies: list[float] = []
    total = int(rate * seconds)

    async def consume() -> None:
        while len(latencies) < total:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                now = time.monotonic()
                latencies.extend((now - float(r.value)) * 1000 for r in records if r.value)

    reader = asyncio.create_task(consume())
    start, per_tick, tick = time.monotonic(), max(1, int(rate * 0.05)), 0.05
    for n in range(int(seconds / tick)):
        for i in range(per_tick):
            await producer.send(topic, str(time.monotonic()).encode(), key=str(i).encode())
        await asyncio.sleep(max(0.0, start + (n + 1) * tick - time.monotonic()))
    await producer.flush()
    await asyncio.wait_for(reader, timeout=60)
    await producer.stop()
    await consumer.stop()
    return latencies
