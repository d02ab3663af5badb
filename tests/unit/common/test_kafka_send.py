"""The remembered partition of a key is the one aiokafka's own partitioner picks, so a customer's records stay on
the partition they always went to, whichever path (send() or a closed batch) carried them."""

import pytest
from aiokafka.partitioner import DefaultPartitioner

from services.common.kafka_send import partition_of


@pytest.mark.parametrize("count", [1, 3, 12, 64])
def test_a_key_lands_where_aiokafka_would_put_it(count: int) -> None:
    partitions = list(range(count))
    reference = DefaultPartitioner()
    keys = [f"c-{n:06d}".encode() for n in range(2_000)] + [b"", "ana-álvarez".encode(), b"\xff" * 40]
    for key in keys:
        assert partition_of(key, count) == reference(key, partitions, partitions)


def test_asking_again_gives_the_same_answer_for_another_partition_count() -> None:
    key = b"c-ana-alvarez"
    assert partition_of(key, 12) == DefaultPartitioner()(key, list(range(12)), list(range(12)))
    assert partition_of(key, 5) == DefaultPartitioner()(key, list(range(5)), list(range(5)))
