"""The Kafka producer the relay and the dead-letter path share, and a reader of each partition's last record."""

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.protocol.metadata import MetadataRequest

from services.common.kafka_security import KafkaSecurity
from services.common.kafka_send import send_batched
from services.experience.adapters.ports import BrokerUnavailableError, OutgoingRecord, RecordProducer


class KafkaRecordProducer(RecordProducer):
    """Batches sends (linger) and awaits every acknowledgement before `send_all` returns."""

    def __init__(
        self, bootstrap: str, *, idempotence: bool, linger_ms: int = 5, security: KafkaSecurity | None = None
    ) -> None:
        self._bootstrap = bootstrap
        self._idempotence = idempotence
        self._linger_ms = linger_ms
        self._security = security or KafkaSecurity()
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            **self._security.client_options(),
            acks="all",
            enable_idempotence=self._idempotence,
            linger_ms=self._linger_ms,
            # Fewer bytes through the broker for little CPU; see view_publisher.create_producer for the codecs measured.
            compression_type="snappy",
            # Broker CPU grows with request count, not bytes: let one request carry many records.
            max_batch_size=512 * 1024,
            max_request_size=4 * 1024 * 1024,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def send_all(self, topic: str, records: Sequence[OutgoingRecord]) -> dict[int, int]:
        """Send in order per partition, in closed per-partition batches, and await every ack (about a third less
        of the relay's cost per event than a send() per record)."""
        producer = self._producer
        assert producer is not None, "start() first"
        return await send_batched(producer, topic, ((r.key, r.value, r.headers) for r in records))

    async def ping(self, timeout_s: float = 2.0) -> None:
        """A metadata round trip to the cluster, on the producer's own connections."""
        if self._producer is None:
            raise BrokerUnavailableError("the producer has not started")
        try:
            async with asyncio.timeout(timeout_s):
                await self._producer.client.fetch_all_metadata()
        except Exception as error:  # KafkaError, TimeoutError, OSError: all mean "not reachable now"
            raise BrokerUnavailableError(repr(error)) from error

    async def cluster_id(self) -> str:
        """Asked of the cluster each time (aiokafka keeps no cluster id): a Metadata v2+ answer for no topic."""
        producer = self._producer
        assert producer is not None, "start() first"
        client = producer.client
        node = client.get_random_node()
        if node is None:
            await client.fetch_all_metadata()
            node = client.get_random_node()
        try:
            response = await client.send(node, MetadataRequest([]))
        except Exception as error:
            raise BrokerUnavailableError(repr(error)) from error
        return getattr(response, "cluster_id", None) or ""  # brokers older than Kafka 0.10.1 report none

    async def last_values(self, topic: str) -> list[bytes]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False, **self._security.client_options()
        )
        await consumer.start()
        try:
            return await _last_values(consumer, topic)
        finally:
            await consumer.stop()

    async def expired(self, topic: str) -> bool:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False, **self._security.client_options()
        )
        await consumer.start()
        try:
            if topic not in await consumer.topics():
                return False
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
            ends = await consumer.end_offsets(partitions)
            starts = await consumer.beginning_offsets(partitions)
            return all(ends[tp] == starts[tp] for tp in partitions) and any(ends[tp] > 0 for tp in partitions)
        finally:
            await consumer.stop()


async def _last_values(consumer: AIOKafkaConsumer, topic: str, timeout_s: float = 10.0) -> list[bytes]:
    if topic not in await consumer.topics():
        return []
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    ends = await consumer.end_offsets(partitions)
    starts = await consumer.beginning_offsets(partitions)
    wanted = {tp for tp in partitions if ends[tp] > starts[tp]}
    for tp in wanted:
        consumer.seek(tp, ends[tp] - 1)
    values: dict[TopicPartition, bytes] = {}
    async with asyncio.timeout(timeout_s):
        while wanted - values.keys():
            batches = await consumer.getmany(*(wanted - values.keys()), timeout_ms=500)
            for tp, records in batches.items():
                values[tp] = records[-1].value or b""
    return list(values.values())
