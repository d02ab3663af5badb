"""How an experience process runs its garbage collector, chosen for CPU per event."""

import gc

# An intake batch of 500 events allocates tens of thousands of short-lived objects (parsed documents, models,
# rows); with the default young threshold of 700 the collector ran dozens of times per request.
YOUNG_THRESHOLD = 50_000


def tune_gc() -> None:
    """Collect less often, and never again walk what start-up allocated (modules, the app, compiled SQL)."""
    gc.set_threshold(YOUNG_THRESHOLD, 20, 100)
    gc.freeze()
