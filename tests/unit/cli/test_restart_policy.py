"""`rapport dev` waits 1 s before restarting a failed part, doubling up to 30 s, and forgets the backoff once a
part has run a while; three 503s in a row from /healthz, not one, mean a restart."""

from services.cli.restart_policy import HealthVerdict, RestartPolicy


def test_failures_in_a_row_wait_longer_each_time_up_to_the_ceiling() -> None:
    policy = RestartPolicy(first=1.0, ceiling=30.0, settled_after=60.0)
    delays = []
    for now in range(8):  # each restart fails again within a second
        policy.started(float(now))
        delays.append(policy.delay_after_failure(now + 0.5))
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]


def test_a_part_that_ran_long_enough_starts_over_at_the_first_delay() -> None:
    policy = RestartPolicy(first=1.0, ceiling=30.0, settled_after=60.0)
    policy.started(0.0)
    assert [policy.delay_after_failure(t) for t in (1.0, 2.0, 3.0)] == [1, 2, 4]
    policy.started(10.0)
    assert policy.delay_after_failure(10.0 + 59.0) == 8  # not settled yet
    policy.started(100.0)
    assert policy.delay_after_failure(100.0 + 60.0) == 1


def test_only_consecutive_503s_ask_for_a_restart() -> None:
    verdict = HealthVerdict(limit=3)
    assert [verdict.heard(s) for s in (503, 503, 200, 503, 503)] == [False] * 5
    assert verdict.heard(503) is True


def test_no_answer_neither_counts_nor_forgives() -> None:
    verdict = HealthVerdict(limit=3)
    assert [verdict.heard(s) for s in (503, None, 503, None)] == [False] * 4
    assert verdict.heard(503) is True
