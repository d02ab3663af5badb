"""Offline checks of the deployment files: docker-compose.yml, the kustomize overlays and the Dockerfile.

Every check returns a list of problems (empty = fine) rather than asserting, so the tests can feed it both the real
files and deliberately broken copies and see the broken ones rejected by the very same code. Each kind of file has
its module (compose_checks, k8s_checks with k8s_schemas, dockerfile_checks); here is what they share: where the
files lie, pinned images, and the topics every way of deploying must create.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from contracts import topics
from services.cli.topology import TOPICS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_SCHEMA = Path(__file__).with_name("compose-spec.schema.json")
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(path.parent for path in (K8S / "overlays").glob("*/kustomization.yaml"))
KUBERNETES_VERSION = "1.31.0"  # the oldest Kubernetes the manifests promise to work on

VIEW_TOPICS = (topics.CUSTOMER_VIEWS, topics.ACCOUNT_VIEWS)


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


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
