"""docker-compose.yml against the Compose Specification's JSON Schema and the rules that matter; broken copies
go through the same checks and must be rejected."""

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.deploy import checks, compose_checks

Compose = dict[str, Any]


@pytest.fixture(scope="module")
def compose() -> Compose:
    return checks.load_yaml(checks.COMPOSE_FILE)


def test_compose_file_passes_schema_and_rules() -> None:
    assert compose_checks.check_compose_file() == []


def test_the_vendored_schema_is_the_compose_specification() -> None:
    schema = yaml.safe_load(checks.COMPOSE_SCHEMA.read_text())
    assert {"services", "volumes", "secrets"} <= set(schema["properties"])
    assert "service_completed_successfully" in checks.COMPOSE_SCHEMA.read_text()


def test_long_running_services_and_one_shots(compose: Compose) -> None:
    services = compose["services"]
    assert {"postgres", "kafka", "experience", "projection", "projection-worker"} <= set(services)
    assert {name for name, service in services.items() if compose_checks.is_one_shot(service)} == {"topics", "migrate"}
    assert set(compose["volumes"]) == {"postgres-data", "kafka-data"}
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft


def test_every_required_variable_is_listed_in_env_example(compose: Compose) -> None:
    required = set(re.findall(r"\$\{([A-Z0-9_]+):?\?", yaml.safe_dump(compose)))
    example = (checks.ROOT / "deploy" / "compose" / "env.example").read_text()
    assert required == {
        "POSTGRES_PASSWORD",
        "RAPPORT_IDENTITY_HASH_KEY",
        "RAPPORT_EXPERIENCE_API_KEYS",
        "RAPPORT_PROJECTION_API_KEYS",
    }
    assert all(re.search(rf"^{name}=", example, re.MULTILINE) for name in required)


def test_sasl_tls_settings_reach_both_services(compose: Compose) -> None:
    for service, prefix in (
        ("experience", "RAPPORT_EXPERIENCE_"),
        ("projection", "RAPPORT_PROJECTION_"),
        ("projection-worker", "RAPPORT_PROJECTION_"),
    ):
        environment = compose["services"][service]["environment"]
        for setting in (
            "KAFKA_SECURITY_PROTOCOL",
            "KAFKA_SASL_MECHANISM",
            "KAFKA_SASL_USERNAME",
            "KAFKA_SASL_PASSWORD",
            "KAFKA_SSL_CAFILE",
        ):
            assert prefix + setting in environment, f"{service} lacks {prefix}{setting}"
    placeholder = compose["secrets"]["kafka-ca"]["file"].split(":-", 1)[1].rstrip("}")
    assert (checks.ROOT / placeholder).is_file()


def test_interpolation_follows_compose() -> None:
    env = {"SET": "x", "EMPTY": ""}
    text = "${SET}-${UNSET:-d}-${EMPTY:-e}-${EMPTY-f}-$$HOME-${NEED:?msg}"
    assert compose_checks.interpolate(text, env) == "x-d-e--$HOME-<NEED>"


def _without_healthcheck(c: Compose) -> None:
    del c["services"]["experience"]["healthcheck"]


def _healthcheck_disabled(c: Compose) -> None:
    c["services"]["kafka"]["healthcheck"] = {"disable": True}


def _latest_image(c: Compose) -> None:
    c["services"]["postgres"]["image"] = "postgres:latest"


def _untagged_image(c: Compose) -> None:
    c["services"]["kafka"]["image"] = "apache/kafka"


def _plain_password(c: Compose) -> None:
    c["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] = "hunter2"


def _password_default(c: Compose) -> None:
    c["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] = "${POSTGRES_PASSWORD:-rapport-dev-only}"


def _password_in_url(c: Compose) -> None:
    c["services"]["experience"]["environment"]["RAPPORT_EXPERIENCE_DATABASE_URL"] = (
        "postgresql+asyncpg://rapport:hunter2@postgres:5432/rapport"
    )


def _depends_on_list(c: Compose) -> None:
    c["services"]["experience"]["depends_on"] = ["migrate", "topics"]


def _depends_on_started(c: Compose) -> None:
    c["services"]["topics"]["depends_on"]["kafka"]["condition"] = "service_started"


def _view_topic_not_compacted(c: Compose) -> None:
    command = c["services"]["topics"]["command"]
    compacted = "topic cx.customer-views.v1 4 cleanup.policy=compact,"
    c["services"]["topics"]["command"] = [command[0].replace(compacted, "topic cx.customer-views.v1 4 ")]


def _fewer_partitions(c: Compose) -> None:
    command = c["services"]["topics"]["command"]
    fewer = command[0].replace("topic cx.events.v1 4 ", "topic cx.events.v1 2 ")
    c["services"]["topics"]["command"] = [fewer]


def _unknown_field(c: Compose) -> None:
    c["services"]["experience"]["helthcheck"] = c["services"]["experience"].pop("healthcheck")


def _wrong_type(c: Compose) -> None:
    c["services"]["postgres"]["healthcheck"]["retries"] = "many"


def _unknown_condition(c: Compose) -> None:
    c["services"]["projection"]["depends_on"]["migrate"]["condition"] = "service_done"


BROKEN: dict[str, tuple[Callable[[Compose], None], str]] = {
    "service without healthcheck": (_without_healthcheck, "experience: long-running service without a healthcheck"),
    "healthcheck disabled": (_healthcheck_disabled, "kafka: long-running service without a healthcheck"),
    "image :latest": (_latest_image, "postgres: image postgres:latest: tag 'latest' is not a version"),
    "image without tag": (_untagged_image, "kafka: image apache/kafka: no tag"),
    "plain-text password": (_plain_password, "postgres: POSTGRES_PASSWORD: secret in plain text"),
    "password as a default": (_password_default, "postgres: POSTGRES_PASSWORD: secret in plain text"),
    "password inside a URL": (_password_in_url, "the URL carries a password written into the file"),
    "depends_on without conditions": (_depends_on_list, "experience: depends_on without conditions"),
    "depends_on a healthy service merely started": (_depends_on_started, "needs condition service_healthy"),
    "view topic not compacted": (_view_topic_not_compacted, "view topic cx.customer-views.v1 is not compacted"),
    "partitions differ from the topology": (_fewer_partitions, "cx.events.v1 has 2 partitions"),
    "unknown field": (_unknown_field, "schema: services/experience: 'helthcheck' does not match"),
    "wrong type": (_wrong_type, "schema: services/postgres/healthcheck/retries"),
    "unknown depends_on condition": (_unknown_condition, "schema: services/projection/depends_on"),
}


@pytest.mark.parametrize("breakage", sorted(BROKEN))
def test_a_broken_compose_file_is_rejected(compose: Compose, breakage: str) -> None:
    breaker, expected = BROKEN[breakage]
    broken = copy.deepcopy(compose)
    breaker(broken)
    problems = compose_checks.check_compose(broken)
    assert any(expected in problem for problem in problems), problems


def test_a_broken_file_on_disk_is_rejected(tmp_path) -> None:
    text = checks.COMPOSE_FILE.read_text()
    # Drop the projection's healthcheck block from the real file, as an editor would.
    broken = re.sub(r"(  projection:\n(?:    .*\n|\n)*?)    healthcheck:\n(?:      .*\n)+", r"\1", text, count=1)
    assert broken != text
    path = tmp_path / "docker-compose.yml"
    path.write_text(broken)
    assert "projection: long-running service without a healthcheck" in compose_checks.check_compose_file(path)
    path.write_text(text + "\nbogus-top-level: 1\n")
    assert any(problem.startswith("schema: (top)") for problem in compose_checks.check_compose_file(path))


def test_experience_secrets_come_from_env_and_plain_text_is_refused(compose: Compose) -> None:
    environment = compose["services"]["experience"]["environment"]
    assert environment["RAPPORT_EXPERIENCE_IDENTITY_HASH_KEY"].startswith("${RAPPORT_IDENTITY_HASH_KEY:?")
    assert environment["RAPPORT_EXPERIENCE_API_KEYS"].startswith("${RAPPORT_EXPERIENCE_API_KEYS:?")

    broken = copy.deepcopy(compose)
    broken["services"]["experience"]["environment"] = {
        **environment,
        "RAPPORT_EXPERIENCE_IDENTITY_HASH_KEY": "written-into-the-file",
    }
    assert any("IDENTITY_HASH_KEY: secret in plain text" in p for p in compose_checks.compose_rule_problems(broken))
