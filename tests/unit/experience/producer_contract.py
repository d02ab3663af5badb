"""What every RecordProducer must do for the relay and the dead-letter path; run on the fake and on a real broker.

Subclasses provide a `producer` fixture and a `topic` fixture (a new, empty topic of its own, created where the
broker needs topics created).
"""

import orjson

from services.experience.adapters.ports import OutgoingRecord, RecordProducer

from .events import new_id


def records(key: str, *values: int) -> list[OutgoingRecord]:
    return [OutgoingRecord(key.encode(), orjson.dumps({"n": value}), [("h", b"v")]) for value in values]


class RecordProducerContract:
    async def test_offsets_acknowledged_per_partition_only_grow(self, producer: RecordProducer, topic: str) -> None:
        key = new_id("c")
        first = await producer.send_all(topic, records(key, 1, 2, 3))
        second = await producer.send_all(topic, records(key, 4, 5))

        assert len(first) == len(second) == 1 and first.keys() == second.keys()  # one key, one partition
        (partition,) = first
        assert second[partition] > first[partition] >= 0

    async def test_nothing_to_send_acknowledges_nothing(self, producer: RecordProducer, topic: str) -> None:
        assert await producer.send_all(topic, []) == {}

    async def test_the_last_value_of_each_partition_is_what_was_sent_last(
        self, producer: RecordProducer, topic: str
    ) -> None:
        assert await producer.last_values(topic) == []
        key = new_id("c")
        await producer.send_all(topic, records(key, 1, 2))
        await producer.send_all(topic, records(key, 3))

        assert await producer.last_values(topic) == [orjson.dumps({"n": 3})]

    async def test_a_topic_that_never_held_records_or_still_holds_them_has_not_expired(
        self, producer: RecordProducer, topic: str
    ) -> None:
        assert not await producer.expired(new_id("missing"))
        assert not await producer.expired(topic)
        await producer.send_all(topic, records(new_id("c"), 1))
        assert not await producer.expired(topic)

    async def test_the_cluster_answers_and_keeps_its_id(self, producer: RecordProducer) -> None:
        await producer.ping()
        cluster = await producer.cluster_id()
        assert isinstance(cluster, str) and await producer.cluster_id() == cluster
