"""W3C Trace Context: which `traceparent` values Rapport carries from requests and records to the records it
sends, and the trace id a log line names."""

import re

# version 00: 2 hex version, 32 hex trace id, 16 hex parent id, 2 hex flags; all-zero ids are invalid
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def valid_traceparent(value: str | bytes | None) -> str | None:
    """`value` when it is a well-formed traceparent (W3C Trace Context, section 3.2), else None."""
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    if not value or len(value) > 128:
        return None
    value = value.strip().lower()
    match = _TRACEPARENT.match(value)
    if match is None or match[1] == "ff" or set(match[2]) == {"0"} or set(match[3]) == {"0"}:
        return None
    return value


def trace_id(traceparent: str | None) -> str | None:
    """The 32-hex trace id of a traceparent, or None when it is not a valid one."""
    valid = valid_traceparent(traceparent)
    return None if valid is None else trace_id_of_valid(valid)


def trace_id_of_valid(traceparent: str) -> str:
    """The trace id of a traceparent already checked by `valid_traceparent` (no second check on a hot path)."""
    return traceparent[3:35]
