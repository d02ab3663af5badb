"""`rapport dlq replay` against the real broker: a replay for one reason leaves the other reasons' records for
their own replay, and a second run for the same reason resumes where the first stopped."""

from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class DeadLetters:
    """LETTERS in a dead-letter topic of their own, replayed to an intake topic of their own."""

    bootstrap: str
    dlq: str
    intake: str

    async def run(self, reason: str | None) -> int:
        """One `rapport dlq replay` for `reason` (None: every reason); how many records it sent back."""
        return await replay(self.bootstrap, reason, False, False, dlq_topic=self.dlq, intake_topic=self.intake)


@pytest.fixture
async def replays(kafka_bootstrap: str, topic_names: Callable[[str], str]) -> DeadLetters:
    dlq = await make_topic(kafka_bootstrap, topic_names("dlq"), partitions=1)
    intake = await make_topic(kafka_bootstrap, topic_names("intake"), partitions=1)
    await dead_letter(kafka_bootstrap, dlq, LETTERS)
    return DeadLetters(kafka_bootstrap, dlq, intake)


async def test_a_replay_for_one_reason_leaves_the_other_reasons_records_to_their_own_replay(
    replays: DeadLetters, kafka_bootstrap: str
) -> None:
    identities = await replays.run("unknown_identity")
    invalid = await replays.run("validation_failed")
    identities_again = await replays.run("unknown_identity")

    assert (identities, invalid, identities_again) == (2, 1, 0)
    replayed = await read_topic(kafka_bootstrap, replays.intake, count=3)
    assert [r.value for r in replayed] == [b"e-1", b"e-3", b"e-2"]
    assert all(r.key == b"c-1" and list(r.headers) == [("traceparent", b"tp")] for r in replayed)


async def test_an_unfiltered_replay_keeps_its_own_position(replays: DeadLetters) -> None:
    everything = await replays.run(None)
    identities = await replays.run("unknown_identity")  # its own position: the unfiltered run did not use it up
    everything_again = await replays.run(None)

    assert (everything, identities, everything_again) == (3, 2, 0)
