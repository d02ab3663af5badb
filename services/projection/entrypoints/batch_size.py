"""How many records the next fetch may bring: more while the worker lags, so each view folds more events.

A batch's cost is mostly per changed customer (load, render, encode, write, publish a view), not per event. A
worker that keeps up sees small batches and stays fresh; one that falls behind finds every fetch full, and then
doubling the batch lets one view carry more of each customer's backlog, which is how it catches up. Once fetches
come back less than half full the backlog is gone, and the limit falls back towards the floor so a batch's
commit (what readers wait for) never waits on more than the backlog itself.
"""

from dataclasses import dataclass


@dataclass(slots=True)
class BatchSize:
    floor: int  # the limit while keeping up (RAPPORT_PROJECTION_BATCH_MAX_RECORDS)
    ceiling: int  # the most a lagging worker folds in one batch (RAPPORT_PROJECTION_BATCH_LAGGING_MAX_RECORDS)
    limit: int = 0

    def __post_init__(self) -> None:
        self.ceiling = max(self.ceiling, self.floor)
        self.limit = self.limit or self.floor

    def observe(self, fetched: int) -> None:
        """Adapt to the size of the fetch just made with the current limit."""
        if fetched >= self.limit:
            self.limit = min(self.ceiling, self.limit * 2)
        elif fetched * 2 < self.limit:
            self.limit = max(self.floor, self.limit // 2)
