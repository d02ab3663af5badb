"""Structured JSON logs, one object per line on stdout, configured once when a service starts (not on import).

What goes in: counts, durations, offsets, event ids, trace ids, key names. What never does: customer ids in
bulk, notes or other personal fields, API keys or their hashes, connection URLs with passwords.
"""

import logging
import sys

import structlog


def configure_logging(service: str, level: str = "info") -> None:
    """JSON lines with timestamp, level, event, the service's name and bound context (trace_id for requests)."""
    numeric = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.WriteLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)  # both services' lines can share one log pipeline
