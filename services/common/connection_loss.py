"""Tell a lost or refused database connection (worth a retry later) from an error in what was asked of it."""

from aiokafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# SQLSTATE classes and codes that mean "the server is going or gone", not "your statement is wrong":
# 08 connection exceptions, 57P01 admin shutdown (pg_terminate_backend, a fast shutdown), 57P02 crash shutdown,
# 57P03 cannot connect now (starting up or in recovery).
_UNAVAILABLE_CODES = {"57P01", "57P02", "57P03"}
_LOST = ("ConnectionDoesNotExistError", "ConnectionResetError", "BrokenPipeError", "ConnectionRefusedError")


def connection_lost(error: BaseException) -> bool:
    """True for errors after which the same request would succeed on a fresh connection."""
    if isinstance(error, OperationalError | InterfaceError | OSError | TimeoutError):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:  # the driver's own error hides behind the wrappers
        seen.add(id(current))
        code = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(code, str) and (code.startswith("08") or code in _UNAVAILABLE_CODES):
            return True
        if type(current).__name__ in _LOST or isinstance(current, ConnectionError):
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False


def worth_retrying(error: BaseException) -> bool:
    """A lost database connection, or any Kafka client error (an unreachable or restarted broker, a topic not
    there yet, an offset out of range): the same work is expected to succeed once the other side is back. Anything
    else (a schema newer than the code, a bug) should stop the process where an operator sees it."""
    return connection_lost(error) or isinstance(error, KafkaError)
