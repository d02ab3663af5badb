"""`rapport dlq replay` against the real broker: a replay for one reason leaves the other reasons' records for
their own replay, and a second run for the same reason resumes where the first stopped."""

from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer

from contracts import topics
from services.cli.dlq import replay

from .kafka_helpers import make_topic, read_topic

pytestmark = pytest.mark.integration

LETTERS = [(b"e-1", "unknown_identity"), (b"e-2", "validation_failed"), (b"e-3", "unknown_identity")]


async def dead_letter(bootstrap: str, dlq: str, letters: list[tuple[bytes, str]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        for value, reason in letters:
            headers = [(topics.DLQ_REASON, reason.encode()), (topics.DLQ_DETAIL, b"why"), ("traceparent", b"tp")]
            await producer.send(dlq, value, key=b"c-1", headers=headers)
        await producer.flush()
    finally:
        await producer.stop()


async def test_a_replay_for_one_reason_leaves_the_other_reasons_records_to_their_own_replay(
    kafka_bootstrap: str, topic_names: Callable[[str], str]
) -> None:
    dlq = await make_topic(kafka_bootstrap, topic_names("dlq"), partitions=1)
    intake = await make_topic(kafka_bootstrap, topic_names("intake"), partitions=1)
    await dead_letter(kafka_bootstrap, dlq, LETTERS)

    async def run(reason: str | None) -> int:
        return await replay(kafka_bootstrap, reason, False, False, dlq_topic=dlq, intake_topic=intake)

    identities = await run("unknown_identity")
    invalid = await run("validation_failed")
    identities_again = await run("unknown_identity")

    assert (identities, invalid, identities_again) == (2, 1, 0)
    replayed = await read_topic(kafka_bootstrap, intake, count=3)
    assert [r.value for r in replayed] == [b"e-1", b"e-3", b"e-2"]
    assert all(r.key == b"c-1" and list(r.headers) == [("traceparent", b"tp")] for r in replayed)


async def test_an_unfiltered_replay_keeps_its_own_position(
    kafka_bootstrap: str, topic_names: Callable[[str], str]
) -> None:
    dlq = await make_topic(kafka_bootstrap, topic_names("dlq"), partitions=1)
    intake = await make_topic(kafka_bootstrap, topic_names("intake"), partitions=1)
    await dead_letter(kafka_bootstrap, dlq, LETTERS)

    async def run(reason: str | None) -> int:
        return await replay(kafka_bootstrap, reason, False, False, dlq_topic=dlq, intake_topic=intake)

    everything = await run(None)
    identities = await run("unknown_identity")  # its own position: the unfiltered run did not use it up
    everything_again = await run(None)

    assert (everything, identities, everything_again) == (3, 2, 0)
