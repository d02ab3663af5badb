"""A rebuild shard's process imports only what a shard uses: its start-up is part of every rebuild's fixed cost."""

import subprocess
import sys

HEAVY = ("contracts.events", "contracts.catalog", "pydantic", "aiokafka", "faststream", "fastapi", "uvicorn")


def test_a_shard_process_imports_no_kafka_client_web_framework_or_event_models() -> None:
    probe = f"import sys, services.projection.shard_root\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "", f"a shard process would import {loaded}"


def test_the_contracts_package_still_offers_its_models_by_name() -> None:
    import contracts
    from contracts import EventParseError, parse_event
    from contracts.catalog import parse_event as from_home

    assert parse_event is from_home and issubclass(EventParseError, Exception)
    assert set(contracts.__all__) <= set(dir(contracts)) | {
        name for name in contracts.__all__ if hasattr(contracts, name)
    }


def test_the_rebuild_command_imports_no_web_framework_or_consumer() -> None:
    # `rapport rebuild` starts a process for the rebuild's composition root; the service's own root (bootstrap,
    # with FastAPI, uvicorn and the consumer) once cost it a third of a second of fixed start-up.
    web = ("fastapi", "uvicorn", "faststream", "alembic", "services.projection.bootstrap")
    probe = f"import sys, services.cli.rebuild\nprint(','.join(m for m in {web!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "", f"rapport rebuild would import {loaded}"
