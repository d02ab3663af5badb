"""A lagging worker folds more events per view; one that keeps up returns to small, fresh batches."""

from services.projection.entrypoints.batch_size import BatchSize


def test_full_fetches_double_the_limit_up_to_the_ceiling() -> None:
    size = BatchSize(floor=5_000, ceiling=40_000)
    seen = []
    for _ in range(6):
        size.observe(size.limit)
        seen.append(size.limit)
    assert seen == [10_000, 20_000, 40_000, 40_000, 40_000, 40_000]


def test_a_fetch_less_than_half_full_halves_it_down_to_the_floor() -> None:
    size = BatchSize(floor=5_000, ceiling=40_000, limit=40_000)
    size.observe(30_000)  # caught up partly: keep folding big batches while the backlog lasts
    assert size.limit == 40_000
    for _ in range(5):
        size.observe(100)
    assert size.limit == 5_000


def test_without_a_ceiling_above_the_floor_the_limit_never_moves() -> None:
    size = BatchSize(floor=25, ceiling=0)
    size.observe(25)
    assert size.limit == 25
