"""Structured JSON logs, one object per line on stdout, configured once when the service starts (not on import)."""

import logging
import sys

import structlog


def configure_logging(level: str = "info") -> None:
    """JSON lines with timestamp, level, logger, event and bound context (trace_id for HTTP requests)."""
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
