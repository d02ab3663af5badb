"""The topics Rapport needs, with partitions and settings; used by `rapport dev` and the tests."""

from contracts import topics

COMPACTED = {"cleanup.policy": "compact"}

# Partitions bound how many projection workers can share the load: keep EVENTS >= the most workers you run.
TOPICS: dict[str, tuple[int, dict[str, str]]] = {
    topics.INTAKE: (4, {}),
    topics.INTAKE_DLQ: (1, {}),
    topics.EVENTS: (4, {}),
    topics.CUSTOMER_VIEWS: (4, COMPACTED),
    topics.ACCOUNT_VIEWS: (4, COMPACTED),
}
