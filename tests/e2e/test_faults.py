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


# Both faults leave the views on a broker that started empty; in some runs the relay sends the store again, the
# projection applies one batch at lag 0 (800 of 1,000 events in one run) and then projects nothing more, with no
# relay.failed or consumer error logged, until `rapport rebuild`. Other runs pass all cycles. Not yet diagnosed.
VIEWS_FREEZE_AFTER_A_NEW_BROKER = (
    "after a restart of the embedded broker, views sometimes freeze after the relay's re-send (no error logged); "
    "dev now restarts a broker that wedges with ObjectStore(AlreadyExists)"
)
KNOWN_BUGS = {
    "kill -9 broker": VIEWS_FREEZE_AFTER_A_NEW_BROKER,
    "kill -9 whole stack, dev started again": VIEWS_FREEZE_AFTER_A_NEW_BROKER,
}


def expected_to_pass(name: str) -> object:
    if name in KNOWN_BUGS:
        return pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN_BUGS[name], strict=False))
    return name


@pytest.mark.parametrize("scenario", [expected_to_pass(s.name) for s in SCENARIOS])
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
