"""Offline checks of docker-compose.yml: the Compose schema, healthchecks and restarts, pinned images, secrets kept
out of the file, ordered start-up, and the topics its one-shot `topics` service creates."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema

from tests.deploy.checks import COMPOSE_FILE, COMPOSE_SCHEMA, image_pin_problem, load_yaml, topic_problems

SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|CREDENTIAL|PRIVATE_KEY|HASH_KEY", re.IGNORECASE)
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; $VAR; $$ is a literal $.
INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)
ONLY_A_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::?\?[^}]*|:?-)?\}$")
URL_PASSWORD = re.compile(r"://[^:/@\s]+:(?P<password>[^@\s]*)@")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's variable substitution, applied to every string value; an unset required variable becomes '<NAME>'."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        op, arg = match["op"] or "", match["arg"] or ""
        current = env.get(name)
        if op.startswith(":") and current == "":
            current = None
        if current is not None:
            return current
        if op.endswith("-"):
            return arg
        return f"<{name}>"  # required (:? / ?) or plain ${VAR} left unset: a stand-in, as a user's .env would fill

    return INTERPOLATION.sub(substitute, value)


def compose_schema_problems(compose: dict[str, Any], schema_path: Path = COMPOSE_SCHEMA) -> list[str]:
    """The interpolated file against the Compose Specification's JSON Schema."""
    schema = json.loads(schema_path.read_text())
    # The schema declares draft 2019-09 under a URI spelling that jsonschema does not map; name the draft here.
    validator = jsonschema.Draft201909Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(interpolate(compose, {})), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(part) for part in error.absolute_path) or "(top)"
        problems.append(f"schema: {where}: {error.message}")
    return problems


def is_one_shot(service: dict[str, Any]) -> bool:
    """A job that runs to completion: marked by restart: "no" (compose keeps everything else running)."""
    return str(service.get("restart", "")).strip() == "no"


def environment_items(service: dict[str, Any]) -> Iterator[tuple[str, str]]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        for entry in environment:
            key, _, value = str(entry).partition("=")
            yield key, value
    else:
        for key, value in environment.items():
            yield str(key), "" if value is None else str(value)


def secret_value_problem(key: str, value: str) -> str | None:
    """A secret must come from outside the file: a ${VAR} reference without a non-empty default, or a file path."""
    for match in URL_PASSWORD.finditer(value):
        password = match["password"]
        if not ONLY_A_REFERENCE.match(password):
            return f"{key}: the URL carries a password written into the file ({password[:3]}...)"
    if not SECRET_NAME.search(key):
        return None
    if key.endswith("_FILE") or value == "" or ONLY_A_REFERENCE.match(value):
        return None
    return f"{key}: secret in plain text (use ${{{key}:?...}} from .env, or a compose secret)"


def compose_rule_problems(compose: dict[str, Any]) -> list[str]:
    """The rules that matter, on the file as written (before interpolation, where references are still visible)."""
    problems: list[str] = []
    services: dict[str, dict[str, Any]] = compose.get("services") or {}
    if not services:
        return ["no services"]
    for name, service in services.items():
        healthcheck = service.get("healthcheck") or {}
        if not is_one_shot(service):
            if healthcheck.get("disable") or not healthcheck.get("test"):
                problems.append(f"{name}: long-running service without a healthcheck")
            if service.get("restart") not in {"always", "unless-stopped", "on-failure"}:
                problems.append(f"{name}: long-running service without a restart policy")
        image = interpolate(service.get("image"), {})
        if (pin := image_pin_problem(image)) is not None:
            problems.append(f"{name}: image {pin}")
        for key, value in environment_items(service):
            if (secret := secret_value_problem(key, value)) is not None:
                problems.append(f"{name}: {secret}")
        depends_on = service.get("depends_on") or {}
        if isinstance(depends_on, list):
            problems.append(f"{name}: depends_on without conditions: {depends_on}")
            continue
        for dependency, spec in depends_on.items():
            if dependency not in services:
                problems.append(f"{name}: depends on unknown service {dependency}")
                continue
            wanted = "service_completed_successfully" if is_one_shot(services[dependency]) else "service_healthy"
            condition = (spec or {}).get("condition")
            if condition != wanted:
                problems.append(f"{name}: depends_on {dependency} needs condition {wanted}, has {condition}")
    return problems


TOPIC_LINE = re.compile(r"^\s*topic\s+(?P<name>\S+)\s+(?P<partitions>\d+)\s+(?P<configs>\S+)\s*$", re.MULTILINE)
CONVERGES = 'kafka-configs.sh --alter --entity-type topics --entity-name "$$name" --add-config "$$configs"'


def topics_script(compose: dict[str, Any]) -> str:
    command = (compose.get("services") or {}).get("topics", {}).get("command") or []
    return "\n".join(command) if isinstance(command, list) else str(command)


def compose_topics(compose: dict[str, Any]) -> dict[str, tuple[int, dict[str, str]]]:
    """The topics the one-shot `topics` service creates: its `topic NAME PARTITIONS k=v,k=v` lines."""
    found = {}
    for match in TOPIC_LINE.finditer(topics_script(compose)):
        configs = dict(item.split("=", 1) for item in match["configs"].split(","))
        found[match["name"]] = (int(match["partitions"]), configs)
    return found


def compose_topic_problems(compose: dict[str, Any]) -> list[str]:
    problems = topic_problems(compose_topics(compose), "compose")
    if CONVERGES not in topics_script(compose):
        problems.append(
            "compose: topics that existed before are not converged to their settings "
            "(kafka-configs.sh --alter ... --add-config)"
        )
    return problems


def check_compose(compose: dict[str, Any]) -> list[str]:
    return compose_schema_problems(compose) + compose_rule_problems(compose) + compose_topic_problems(compose)


def check_compose_file(path: Path = COMPOSE_FILE) -> list[str]:
    return check_compose(load_yaml(path))
