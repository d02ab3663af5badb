"""The topics Rapport needs, with partitions and settings: the one definition that `rapport dev`, the compose
`topics` job and the Strimzi KafkaTopics follow (tests/deploy checks the latter two against it)."""

from contracts import topics

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

# The promise the README makes: an erased customer's original bytes are gone from every topic within this long.
ERASURE_DEADLINE_MS = 30 * DAY_MS

# Kafka deletes a whole segment once its newest record is past retention, so a record can outlive retention.ms by
# up to segment.ms: rolling daily keeps that slack to a day.
SEGMENT_MS = DAY_MS

# Intake and its dead letters: two weeks to notice a bad producer or a long outage, fix it and replay
# (`rapport dlq replay`); raw intake bytes carry personal data, so 14 days + a segment stays inside the deadline.
REPLAYABLE = {"retention.ms": str(14 * DAY_MS), "segment.ms": str(SEGMENT_MS)}

# The canonical events: the event store is the truth and rebuilds read it, so the topic need only outlast a
# projection outage; erased customers' original bytes stay here until retention, so 21 days + a segment (22) is
# what keeps the erasure deadline, with a week to spare for a cleaner or a broker that is behind.
CANONICAL = {"retention.ms": str(21 * DAY_MS), "segment.ms": str(SEGMENT_MS)}

# The view topics: compacted, the latest view per key. A subscriber offline up to a week still sees an erasure's
# tombstone (which holds no personal data, so the deadline does not bound it); one lagging less than an hour sees
# every version, not only the latest; and an erased customer's last view before the tombstone is compacted away
# within max.compaction.lag.ms (a day) after its hourly segment closes, well inside the erasure deadline.
COMPACTED = {
    "cleanup.policy": "compact",
    "delete.retention.ms": str(7 * DAY_MS),
    "min.compaction.lag.ms": str(HOUR_MS),
    "max.compaction.lag.ms": str(DAY_MS),
    "segment.ms": str(HOUR_MS),
    "min.cleanable.dirty.ratio": "0.1",  # compact often: views are rewritten many times over
}

# Partitions bound how many projection workers can share the load: keep EVENTS >= the most workers you run.
TOPICS: dict[str, tuple[int, dict[str, str]]] = {
    topics.INTAKE: (4, REPLAYABLE),
    topics.INTAKE_DLQ: (1, REPLAYABLE),
    topics.EVENTS: (4, CANONICAL),
    topics.CUSTOMER_VIEWS: (4, COMPACTED),
    topics.ACCOUNT_VIEWS: (4, COMPACTED),
}


def min_insync_replicas(replicas: int) -> int:
    """The one setting that depends on the cluster rather than the topic (the Strimzi KafkaTopics set it): acks=all
    writes go on while one replica is down, and a single broker (`rapport dev`, compose) takes them at all."""
    return max(1, replicas - 1)
