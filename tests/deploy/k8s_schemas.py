"""The rendered Kubernetes manifests against their schemas: built-in kinds by kubernetes-validate, the custom
resources (KEDA's ScaledObject and TriggerAuthentication, Strimzi's KafkaTopic) by their required fields."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tests.deploy.checks import KUBERNETES_VERSION


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
