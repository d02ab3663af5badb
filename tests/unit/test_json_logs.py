"""Both services log JSON lines an operator's log pipeline can parse: one object per line, with event, level,
timestamp and whatever context is bound (the trace id of a request, the event id of a refusal)."""

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import structlog

from services.common.logs import configure_logging

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SERVICES = pytest.mark.parametrize("service", ["experience", "projection"])


@pytest.fixture
def stdout(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """What the services write to stdout; structlog's configuration is back afterwards, for every other test."""
    before = structlog.get_config()
    yield capsys
    structlog.contextvars.clear_contextvars()
    structlog.configure(**before)


def lines(written: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    parsed = [json.loads(line) for line in written.readouterr().out.splitlines()]
    assert all(isinstance(line, dict) for line in parsed)
    return parsed


@SERVICES
def test_each_log_call_is_one_json_object_on_its_own_line(service: str, stdout: pytest.CaptureFixture[str]) -> None:
    configure_logging(service, "info")
    log = structlog.get_logger("test")

    log.info("batch.projected", events=3)
    structlog.contextvars.bind_contextvars(trace_id=TRACE_ID)
    log.warning("events.rejected", reason="unknown_identity", event_id="pos-7781-0042")

    first, second = lines(stdout)
    assert (first["event"], first["level"], first["events"]) == ("batch.projected", "info", 3)
    assert "trace_id" not in first
    assert (second["event"], second["level"]) == ("events.rejected", "warning")
    assert (second["trace_id"], second["event_id"]) == (TRACE_ID, "pos-7781-0042")
    for line in (first, second):
        assert datetime.fromisoformat(str(line["timestamp"])).utcoffset() == timedelta(0)  # UTC, ISO 8601


@SERVICES
def test_lines_below_the_configured_level_are_left_out(service: str, stdout: pytest.CaptureFixture[str]) -> None:
    configure_logging(service, "warning")
    log = structlog.get_logger("test")

    log.info("batch.projected")
    log.error("consumer.stopped", error="broker gone")

    assert [line["event"] for line in lines(stdout)] == ["consumer.stopped"]


@SERVICES
def test_each_line_names_its_service(service: str, stdout: pytest.CaptureFixture[str]) -> None:
    configure_logging(service, "info")

    structlog.get_logger("test").info("batch.projected")

    assert lines(stdout)[0]["service"] == service
