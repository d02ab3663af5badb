"""What a worker projects from a fetch that a rebalance overtook: only its partitions, from where it stands."""

from dataclasses import dataclass

from aiokafka import TopicPartition

from services.projection.entrypoints.placement import still_ours

P0, P1 = TopicPartition("cx.events.v1", 0), TopicPartition("cx.events.v1", 1)


@dataclass
class Record:
    offset: int


def records(*offsets: int) -> list[Record]:
    return [Record(o) for o in offsets]


def test_records_of_a_partition_taken_away_meanwhile_are_left_to_its_new_owner() -> None:
    fetched = {P0: records(10, 11), P1: records(5, 6)}

    kept = still_ours(fetched, {P0: 10})  # P1 was revoked between the fetch and the lock

    assert kept == {P0: fetched[P0]}


def test_records_below_where_a_partition_was_just_positioned_are_dropped() -> None:
    fetched = {P0: records(8, 9, 10, 11), P1: records(3, 4)}

    kept = still_ours(fetched, {P0: 10, P1: 7})  # fetched before the seek the new assignment made

    assert [r.offset for r in kept[P0]] == [10, 11]
    assert P1 not in kept


def test_an_ordinary_fetch_is_kept_whole() -> None:
    fetched = {P0: records(10, 11), P1: records(5)}

    assert still_ours(fetched, {P0: 10, P1: 5}) == fetched
