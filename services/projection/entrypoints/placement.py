"""Where a newly assigned partition starts reading: at the offset committed with the views, not at Kafka's."""

import asyncio
from typing import TYPE_CHECKING, Any

import orjson
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from contracts import canonical
from services.projection.adapters.metrics import ProjectionMetrics
from services.projection.adapters.ports import ViewStore

if TYPE_CHECKING:  # the consumer loop imports this module, so only the type checker may import it back
    from services.projection.entrypoints.consumer import ConsumerStatus

log = structlog.get_logger(__name__)


class OffsetsFromDatabase(ConsumerRebalanceListener):  # type: ignore[misc]
    """Positions each newly assigned partition at the offset committed with the views, not at Kafka's."""

    def __init__(
        self, consumer: AIOKafkaConsumer, store: ViewStore, group: str, lock: asyncio.Lock,
        status: "ConsumerStatus", metrics: ProjectionMetrics,
    ):  # fmt: skip
        self._consumer, self._store, self._group, self._lock = consumer, store, group, lock
        self._status, self._metrics = status, metrics

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        # Wait for the batch in flight: its partitions must not be processed by two workers at once.
        async with self._lock:
            for tp in revoked:
                self._status.next_offsets.pop(tp, None)
                self._status.to_verify.pop(tp, None)
                if self._status.lag.pop(tp.partition, None) is not None:
                    self._metrics.lag.remove(str(tp.partition))  # another worker reports it now

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        if not assigned:
            return
        stored: dict[str, dict[int, int]] = {}
        lasts: dict[str, dict[int, int]] = {}
        for topic in {tp.topic for tp in assigned}:
            stored[topic] = await self._store.stored_offsets(self._group, topic)
            lasts[topic] = await self._store.last_positions(self._group, topic)
        beginnings = await self._consumer.beginning_offsets(assigned)
        ends = await self._consumer.end_offsets(assigned)
        for tp in assigned:
            offset = stored[tp.topic].get(tp.partition)
            last = lasts[tp.topic].get(tp.partition)
            self._status.to_verify.pop(tp, None)
            # Beyond the end means the broker lost its data or the topic was recreated: read it all again;
            # per-customer positions skip what was applied. An explicit seek(), not seek_to_beginning(): the
            # latter is lazy and once re-delivered a batch fetched before it took effect.
            if offset is None or offset > ends[tp] or offset < beginnings[tp]:
                offset = beginnings[tp]
            elif last is not None and offset - 1 >= beginnings[tp]:
                # Within the log is not proof enough: a recreated topic refilled past the offset holds other
                # records there. Start one below and check that record is the last one projected (run()).
                offset -= 1
                self._status.to_verify[tp] = (offset, last)
            self._consumer.seek(tp, offset)
            self._status.next_offsets[tp] = offset
            self._status.lag[tp.partition] = ends[tp] - offset
            self._metrics.lag.labels(str(tp.partition)).set(ends[tp] - offset)
        log.info("partitions assigned", partitions=[(tp.topic, tp.partition) for tp in assigned])


def position_of(record: Any) -> int | None:
    """The event-store position a canonical record carries, or None when it cannot be read."""
    try:
        position = orjson.loads(record.value or b"").get(canonical.POSITION)
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return position if isinstance(position, int) else None


def still_ours(
    fetched: dict[TopicPartition, list[Any]], next_offsets: dict[TopicPartition, int]
) -> dict[TopicPartition, list[Any]]:
    """The fetched records this worker should project now: a rebalance can run between the fetch and the lock,
    and then the records of a partition taken away belong to its new owner (projecting them here too only makes
    both do the work, the positions skipping it the second time), and records below where a partition was just
    positioned were fetched before that seek."""
    kept = {}
    for tp, records in fetched.items():
        expected = next_offsets.get(tp)
        if expected is None or not records:
            continue
        kept[tp] = records if records[0].offset >= expected else [r for r in records if r.offset >= expected]
    return {tp: records for tp, records in kept.items() if records}
