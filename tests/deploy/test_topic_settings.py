"""Each topic's partitions and settings are defined once (services/cli/topology.py, which `rapport dev` creates
topics from); the compose `topics` job and the Strimzi KafkaTopics must say exactly the same, so changing any one
partition count or setting in one place alone fails here."""

import copy
from typing import Any

import pytest

from services.cli import dev, topology
from services.cli.topology import TOPICS
from tests.deploy import checks, compose_checks, k8s_checks

KAFKA_TOPICS_FILE = checks.K8S / "base" / "kafka-topics.yaml"
SETTINGS = [(name, key) for name, (_, configs) in TOPICS.items() for key in configs]


def strimzi_topics() -> list[dict[str, Any]]:
    import yaml

    return [doc for doc in yaml.safe_load_all(KAFKA_TOPICS_FILE.read_text()) if doc]


def strimzi_found(docs: list[dict[str, Any]]) -> dict[str, tuple[int, dict[str, str]]]:
    found, problems = k8s_checks.kafka_topics_found(docs)
    assert problems == []
    return found


def compose_with(edit: str, name: str, replacement: str | None) -> dict[str, Any]:
    """The compose file with the `topic NAME ...` line's `edit` (partitions, or a setting) changed or dropped."""
    compose = checks.load_yaml(checks.COMPOSE_FILE)
    script = compose_checks.topics_script(compose)
    partitions, configs = compose_checks.compose_topics(compose)[name]
    old_line = f"topic {name} {partitions} {','.join(f'{k}={v}' for k, v in configs.items())}"
    if edit == "partitions":
        partitions = int(replacement or 0)
    elif replacement is None:
        configs = {k: v for k, v in configs.items() if k != edit}
    else:
        configs = {**configs, edit: replacement}
    new_line = f"topic {name} {partitions} {','.join(f'{k}={v}' for k, v in configs.items())}"
    assert old_line in script
    compose["services"]["topics"]["command"] = [script.replace(old_line, new_line)]
    return compose


def test_rapport_dev_creates_the_topology() -> None:
    assert dev.TOPICS is topology.TOPICS


def test_compose_and_strimzi_match_the_topology() -> None:
    compose = checks.load_yaml(checks.COMPOSE_FILE)
    assert compose_checks.compose_topic_problems(compose) == []
    assert checks.topic_problems(strimzi_found(strimzi_topics()), "KafkaTopic") == []


def test_every_delete_topic_keeps_the_erasure_deadline() -> None:
    for name, (_, configs) in TOPICS.items():
        if configs.get("cleanup.policy", "delete") == "delete":
            lifetime = int(configs["retention.ms"]) + int(configs["segment.ms"])
        else:
            lifetime = int(configs["segment.ms"]) + int(configs["max.compaction.lag.ms"])
        assert lifetime < topology.ERASURE_DEADLINE_MS, name


@pytest.mark.parametrize(("name", "key"), SETTINGS)
def test_a_setting_changed_or_dropped_in_compose_alone_is_caught(name: str, key: str) -> None:
    changed = compose_checks.compose_topic_problems(compose_with(key, name, "12345"))
    dropped = compose_checks.compose_topic_problems(compose_with(key, name, None))

    assert any(f"{name} needs {key}=" in problem and "has 12345" in problem for problem in changed), changed
    assert any(f"{name} needs {key}=" in problem and "has None" in problem for problem in dropped), dropped


@pytest.mark.parametrize(("name", "key"), SETTINGS)
def test_a_setting_changed_or_dropped_in_a_kafka_topic_alone_is_caught(name: str, key: str) -> None:
    docs = strimzi_topics()
    changed, dropped = copy.deepcopy(docs), copy.deepcopy(docs)
    next(d for d in changed if d["spec"]["topicName"] == name)["spec"]["config"][key] = 12345
    del next(d for d in dropped if d["spec"]["topicName"] == name)["spec"]["config"][key]

    for broken in (changed, dropped):
        problems = checks.topic_problems(strimzi_found(broken), "KafkaTopic")
        assert any(f"{name} needs {key}=" in problem for problem in problems), problems


@pytest.mark.parametrize("name", TOPICS)
def test_partitions_or_an_extra_setting_in_one_place_alone_are_caught(name: str) -> None:
    compose = compose_checks.compose_topic_problems(compose_with("partitions", name, "7"))
    extra = compose_checks.compose_topic_problems(compose_with("compression.type", name, "zstd"))
    docs = strimzi_topics()
    next(d for d in docs if d["spec"]["topicName"] == name)["spec"]["partitions"] = 7
    strimzi = checks.topic_problems(strimzi_found(docs), "KafkaTopic")

    assert f"compose: {name} has 7 partitions, topology says {TOPICS[name][0]}" in compose
    assert f"compose: {name} sets compression.type, which the topology does not" in extra
    assert f"KafkaTopic: {name} has 7 partitions, topology says {TOPICS[name][0]}" in strimzi


def test_compose_must_converge_topics_that_existed_before() -> None:
    compose = checks.load_yaml(checks.COMPOSE_FILE)
    script = compose_checks.topics_script(compose)
    compose["services"]["topics"]["command"] = [script.replace(compose_checks.CONVERGES, "true")]

    assert any("not converged" in problem for problem in compose_checks.compose_topic_problems(compose))


def test_min_insync_replicas_follows_each_kafka_topics_replicas() -> None:
    docs = strimzi_topics()
    events = next(d for d in docs if d["spec"]["topicName"] == "cx.events.v1")
    events["spec"]["config"]["min.insync.replicas"] = 3

    assert k8s_checks.kafka_topics_found(docs)[1] == [
        "KafkaTopic: cx.events.v1 needs min.insync.replicas=2 for 3 replicas, has 3"
    ]
