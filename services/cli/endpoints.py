"""Where a running `rapport dev` can be reached, kept in its data directory so operator commands find it."""

import json
from pathlib import Path
from typing import Any

import typer

ENDPOINTS_FILE = "endpoints.json"


def save_endpoints(data_dir: Path, database_url: str, bootstrap: str, options: Any) -> None:
    document = {
        "database_url": database_url,
        "kafka_bootstrap": bootstrap,
        "experience_url": f"http://127.0.0.1:{options.experience_port}",
        "projection_url": f"http://127.0.0.1:{options.projection_port}",
    }
    (data_dir / ENDPOINTS_FILE).write_text(json.dumps(document, indent=2) + "\n")


def _known(data_dir: Path, name: str, given: str | None, option: str) -> str:
    """An explicit value wins; otherwise the one of the `rapport dev` that uses `data_dir`."""
    kept = data_dir / ENDPOINTS_FILE
    value = given or (json.loads(kept.read_text()).get(name) if kept.exists() else None)
    if not value:
        raise typer.BadParameter(f"no running `rapport dev` found in {data_dir}; pass {option}")
    return str(value)


def resolve_bootstrap(data_dir: Path, bootstrap: str | None) -> str:
    return _known(data_dir, "kafka_bootstrap", bootstrap, "--bootstrap")


def resolve(data_dir: Path, database_url: str | None, bootstrap: str | None) -> tuple[str, str]:
    return _known(data_dir, "database_url", database_url, "--database-url"), resolve_bootstrap(data_dir, bootstrap)


def resolve_experience_url(data_dir: Path, url: str | None) -> str:
    return _known(data_dir, "experience_url", url, "--event-log-url")
