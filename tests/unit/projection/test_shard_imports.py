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
