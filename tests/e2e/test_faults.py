"""The fault suite's short form: one cycle of each fault against a real `rapport dev`, as `make faults` runs them."""

from collections.abc import Iterator

import pytest

from services.cli.faults import FaultOptions, run_in_temp_dir
from services.cli.faults_report import ScenarioResult, console, explain, table
from services.cli.faults_scenarios import SCENARIOS

pytestmark = pytest.mark.e2e

SHORT = FaultOptions(cycles=1, events=200, customers=20, catch_up_timeout=45)


@pytest.fixture(scope="module")
def results() -> Iterator[dict[str, ScenarioResult]]:
    ran, kept = run_in_temp_dir(SHORT)
    console.print(table(ran))  # shown by pytest when a test fails
    explain(ran)
    console.print(f"data and logs kept in {kept}" if kept else "")
    yield {r.name: r for r in ran}


@pytest.mark.parametrize("scenario", [s.name for s in SCENARIOS])
def test_no_acknowledged_event_is_lost_or_counted_twice_and_views_heal_by_themselves(
    results: dict[str, ScenarioResult], scenario: str
) -> None:
    result = results[scenario]

    assert result.ledger.total >= SHORT.events
    assert (result.lost, result.counted_twice, result.ledger.undelivered) == (0, 0, 0)
    assert result.ledger.server_errors == []
    assert result.problems == []
    assert result.caught_up_s is not None, "views did not catch up by themselves"
    assert result.fresh_event_s is not None, "a fresh event did not show after the catch-up"
    assert result.rebuild_changed == 0, "rapport rebuild changed views"
