"""The bench says how close to capacity its freshness run was."""

from services.cli.bench_report import load_share


def test_a_light_load_is_a_plain_share() -> None:
    assert load_share(2000, 9000) == "22%"


def test_a_load_near_capacity_is_flagged() -> None:
    assert load_share(2000, 3200).startswith("62%") and "near capacity" in load_share(2000, 3200)


def test_no_capacity_measured_is_not_a_division_error() -> None:
    assert load_share(2000, 0).startswith("inf")
